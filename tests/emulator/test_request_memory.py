"""Issue 10 item 9: huge requests, accepted or refused, must not stay in a real host's memory.

The host is a real ``osirix-tasks serve`` process; its resident memory is read from /proc (Linux
only). Before the memory guards, two 200 MB DCMPixSetImage requests and six 150 MB requests to a
small call left the host about 300 MB larger than it started.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import grpc
import numpy as np
import pytest
from osirixgrpc import types_pb2, utilities_pb2

from osirix_tasks.client import Connection
from osirix_tasks.client.viewer_tools import open_series, pix_list
from osirix_tasks.testing import running_host
from osirix_tasks.wire.options import CHANNEL_OPTIONS
from osirix_tasks.wire.pixel_decode import encode_set_image_request

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/status")

MB = 1_000_000
#: What the host may keep after the burst (allocator caches, gRPC's per-connection buffers).
ALLOWED_GROWTH_MB = 60


def resident_mb(pid: int) -> float:
    """VmRSS of a process in MB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / MB
    raise AssertionError(f"no VmRSS for {pid}")


def settled_mb(pid: int, target: float, seconds: float = 10.0) -> float:
    """The host's RSS once it has dropped below ``target``, or the last reading after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        value = resident_mb(pid)
        if value <= target or time.monotonic() > deadline:
            return value
        time.sleep(0.25)


def raw_call(channel: grpc.Channel, rpc: str) -> grpc.UnaryUnaryMultiCallable:
    """``rpc`` sending ready-made request bytes and reading the standard Response."""
    return channel.unary_unary(
        f"/osirixgrpc.OsiriXService/{rpc}",
        request_serializer=bytes,
        response_deserializer=utilities_pb2.Response.FromString,
    )


def first_pix(connection: Connection) -> types_pb2.DCMPix:
    return pix_list(connection, open_series(connection))[0]


def test_huge_requests_do_not_stay_in_the_hosts_memory(tmp_path: Path) -> None:
    with running_host(tmp_path, "--demo") as host, Connection(host.address) as connection:
        pid = host.process.pid
        pix = first_pix(connection)
        channel = grpc.insecure_channel(host.address, options=CHANNEL_OPTIONS)
        time.sleep(0.5)
        before = resident_mb(pid)

        # Accepted by gRPC (under the plugin's 512 MB), refused by the call: wrong number of pixels.
        set_image = encode_set_image_request(pix, np.zeros(200 * MB // 4, np.float32))
        for _ in range(2):
            answer = raw_call(channel, "DCMPixSetImage")(set_image)
            assert (answer.status.status, answer.status.message) == (0, "Incompatible image shape")

        # A call that names an object, sent 150 MB at a time, three at once, twice.
        name_request = types_pb2.DicomStudy(osirixrpc_uid="x" * (150 * MB)).SerializeToString()
        answers: list[utilities_pb2.Response] = []

        def send() -> None:
            answers.append(raw_call(channel, "DicomStudyName")(name_request))

        for _ in range(2):
            threads = [threading.Thread(target=send) for _ in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        after = settled_mb(pid, before + ALLOWED_GROWTH_MB)
        kept = f"the host kept {after - before:.0f} MB ({before:.0f} -> {after:.0f} MB)"
        assert after <= before + ALLOWED_GROWTH_MB, kept
        assert [a.status.status for a in answers] == [0] * 6
        assert answers[0].status.message.startswith("DicomStudyName: the request is 143 MiB, more than the 64 MiB")
        # ...and it still answers.
        assert connection.call("OsirixVersion", utilities_pb2.Empty()).version.startswith("osirix-tasks")
        channel.close()


def test_a_large_undecodable_request_is_answered_with_status_0(tmp_path: Path) -> None:
    with running_host(tmp_path, "--demo") as host:
        channel = grpc.insecure_channel(host.address, options=CHANNEL_OPTIONS)
        garbage = b"\x12\xff\xff\xff\xff\x0f" + b"\0" * (20 * MB)  # field 2 claims ~4 GB
        answer = raw_call(channel, "DCMPixSetImage")(garbage)
        assert answer.status.status == 0
        assert answer.status.message.startswith("DCMPixSetImage: the request could not be decoded")
        channel.close()
