"""The osirix-tasks client: server discovery, typed errors, fast pixels bit-exact with protobuf."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from osirixgrpc import types_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.client import Connection, NoServer, OsirixError, server_address
from osirix_tasks.client.server_configs import free_port
from osirix_tasks.client.viewer_tools import open_series, pix_list
from osirix_tasks.testing import RunningHost, isolated_env, running_host


def open_demo_viewer(connection: Connection):  # type: ignore[no-untyped-def]
    viewer = open_series(connection)
    return viewer, pix_list(connection, viewer)


def test_fast_pixels_equal_the_standard_decoding(host: RunningHost) -> None:
    with Connection(host.ports[0]) as connection:
        _, pix = open_demo_viewer(connection)
        standard = connection.stub.DCMPixImage(pix[7])
        expected = np.asarray(standard.image_data_float, dtype=np.float32).reshape(standard.rows, standard.columns)
        assert connection.pixels(pix[7]).tobytes() == expected.tobytes()
        volume = connection.volume(pix)
        assert volume.shape == (24, 128, 128)
        assert volume[7].tobytes() == expected.tobytes()


def test_set_pixels_round_trip(host: RunningHost) -> None:
    with Connection(host.ports[0]) as connection:
        _, pix = open_demo_viewer(connection)
        image = np.random.default_rng(3).normal(size=(128, 128)).astype(np.float32)
        connection.set_pixels(pix[3], image)
        assert connection.pixels(pix[3]).tobytes() == image.tobytes()
        with pytest.raises(OsirixError, match="DCMPixSetImage: Incompatible image shape"):
            connection.set_pixels(pix[3], np.zeros((2, 2), np.float32))


def test_status_0_is_a_typed_error(host: RunningHost) -> None:
    with Connection(host.ports[0]) as connection:
        with pytest.raises(OsirixError) as info:
            connection.call("DicomStudyName", types_pb2.DicomStudy(osirixrpc_uid="gone"))
        assert (info.value.rpc, info.value.message) == ("DicomStudyName", "No DicomStudy cached")
        with pytest.raises(OsirixError, match="No DCMPix cached"):
            connection.pixels(types_pb2.DCMPix(osirixrpc_uid="gone"))


def test_server_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSIRIX_TASKS_SERVER", raising=False)
    with pytest.raises(NoServer, match="osirix-tasks serve"):
        server_address()
    assert server_address(50055) == "127.0.0.1:50055"
    monkeypatch.setenv("OSIRIX_TASKS_SERVER", "127.0.0.1:6000")
    assert server_address() == "127.0.0.1:6000"


def test_discovery_takes_the_server_pyosirix_takes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSIRIX_TASKS_SERVER", raising=False)
    first, second = free_port(), free_port()
    with running_host(tmp_path, "--empty", ports=[first, second]) as host:
        for key, value in isolated_env(tmp_path).items():
            monkeypatch.setenv(key, value)
        # pyosirix, unmodified, in a process with the same home: the last active entry
        code = "import json, osirix; print(json.dumps(osirix.osirixgrpc_port_preference()))"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=host.env(), timeout=60)
        chosen_by_pyosirix = int(json.loads(done.stdout.strip().splitlines()[-1]))
        assert chosen_by_pyosirix == second
        assert server_address() == f"127.0.0.1:{chosen_by_pyosirix}"
        with Connection() as connection:
            assert connection.call("OsirixVersion", Empty()).version.startswith("osirix-tasks")
