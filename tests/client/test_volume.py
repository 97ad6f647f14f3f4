"""Connection.volume: bounded requests in flight, the result filled plane by plane (issue 13.4).

Expected planes come from protobuf's own decoding of each DCMPixImage answer (the official stub),
an independent path from our codec.
"""

from __future__ import annotations

import numpy as np
import pytest
from osirixgrpc import dcmpix_pb2

from osirix_tasks.client import Connection, OsirixError
from osirix_tasks.client.viewer_tools import open_series, pix_list
from osirix_tasks.testing import RunningHost


def demo_pix(connection: Connection) -> list:  # type: ignore[type-arg]
    return pix_list(connection, open_series(connection))


def standard_volume(connection: Connection, pix: list) -> np.ndarray:  # type: ignore[type-arg]
    planes = []
    for p in pix:
        answer = connection.stub.DCMPixImage(p)
        planes.append(np.asarray(answer.image_data_float, np.float32).reshape(answer.rows, answer.columns))
    return np.stack(planes)


@pytest.mark.parametrize("in_flight", [1, 3, 100])
def test_volume_equals_protobufs_decoding_whatever_the_requests_in_flight(host: RunningHost, in_flight: int) -> None:
    with Connection(host.ports[0]) as connection:
        pix = demo_pix(connection)
        expected = standard_volume(connection, pix)
        volume = connection.volume(pix, in_flight=in_flight)
        assert volume.dtype == np.float32 and volume.shape == expected.shape == (len(pix), 128, 128)
        assert volume.tobytes() == expected.tobytes()


def test_volume_fills_a_given_array(host: RunningHost) -> None:
    with Connection(host.ports[0]) as connection:
        pix = demo_pix(connection)
        expected = standard_volume(connection, pix)
        out = np.full(expected.shape, np.nan, np.float32)
        assert connection.volume(pix, out=out) is out
        assert out.tobytes() == expected.tobytes()
        with pytest.raises(ValueError, match=r"out: a writeable C-contiguous float32 array of shape \(24, 128, 128\)"):
            connection.volume(pix, out=np.empty((24, 128, 127), np.float32))
        with pytest.raises(ValueError, match="out: "):
            connection.volume(pix, out=np.empty(expected.shape, np.float64))
        with pytest.raises(ValueError, match="in_flight must be at least 1"):
            connection.volume(pix, in_flight=0)
        assert connection.volume([]).shape == (0, 0, 0)


def test_planes_that_cannot_be_stacked_are_named(host: RunningHost) -> None:
    with Connection(host.ports[0]) as connection:
        pix = demo_pix(connection)
        connection.call("DCMPixConvertToRGB", dcmpix_pb2.DCMPixConvertToRGBRequest(pix=pix[2], rgb_channel=3))
        with pytest.raises(OsirixError, match="plane 2 is 128x128x4, unlike plane 0 \\(128x128\\)"):
            connection.volume(pix[:4])
        argb = connection.volume(pix[2:3])  # one ARGB plane alone stacks as uint8
        assert argb.shape == (1, 128, 128, 4) and argb.dtype == np.uint8
