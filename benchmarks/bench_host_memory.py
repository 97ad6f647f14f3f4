"""A real host's resident memory after huge requests, accepted by gRPC but refused by the call
(issue 10 item 9): two 381 MB DCMPixSetImage with the wrong number of pixels, then six 440 MB
DicomStudyName requests, three at once. Prints the host's RSS (and peak) after each step.

    python benchmarks/bench_host_memory.py
"""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

import grpc
import numpy as np
from osirixgrpc import types_pb2, utilities_pb2

from osirix_tasks.client import Connection
from osirix_tasks.client.viewer_tools import open_series, pix_list
from osirix_tasks.testing import running_host
from osirix_tasks.wire.options import CHANNEL_OPTIONS
from osirix_tasks.wire.pixel_decode import encode_set_image_request

MB = 1_000_000


def memory(pid: int) -> str:
    """'RSS x MB (peak y MB)' of a process, from /proc."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    return f"RSS {int(fields['VmRSS'].split()[0]) // 1024} MB (peak {int(fields['VmHWM'].split()[0]) // 1024} MB)"


def first_pix(connection: Connection) -> types_pb2.DCMPix:
    return pix_list(connection, open_series(connection))[0]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, running_host(Path(tmp), "--demo") as host:
        pid = host.process.pid
        connection = Connection(host.address)
        channel = grpc.insecure_channel(host.address, options=CHANNEL_OPTIONS)

        def raw(rpc: str) -> grpc.UnaryUnaryMultiCallable:
            return channel.unary_unary(
                f"/osirixgrpc.OsiriXService/{rpc}",
                request_serializer=bytes,
                response_deserializer=utilities_pb2.Response.FromString,
            )

        pix = first_pix(connection)
        time.sleep(1)
        print(f"host started:                          {memory(pid)}")
        set_image = encode_set_image_request(pix, np.zeros(381 * MB // 4, np.float32))
        for _ in range(2):
            answer = raw("DCMPixSetImage")(set_image)
            assert answer.status.status == 0, answer
        del set_image
        time.sleep(2)
        print(f"after 2 x 381 MB DCMPixSetImage (+2 s): {memory(pid)}   answer: {answer.status.message!r}")
        request = types_pb2.DicomStudy(osirixrpc_uid="x" * (440 * MB)).SerializeToString()
        answers: list[str] = []
        for round_ in (1, 2):
            threads = [
                threading.Thread(target=lambda: answers.append(raw("DicomStudyName")(request).status.message))
                for _ in range(3)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            time.sleep(2)
            print(f"after {3 * round_} x 440 MB DicomStudyName (+2 s): {memory(pid)}")
        print(f"    answer: {answers[0]!r}")
        print("still answering:", connection.call("OsirixVersion", utilities_pb2.Empty()).version)
        channel.close()
        connection.close()


if __name__ == "__main__":
    main()
