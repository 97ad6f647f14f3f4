"""Pixels shipped with an item: for workers that cannot reach OsiriX (another machine's 127.0.0.1).

The machine that runs OsiriX opens a viewer of the target series for a moment, fetches its planes
with the fast client (:meth:`Connection.volume`) and its geometry, and closes the viewer again (the
frontmost window comes back). The task, declared with ``pixels=True``, receives them as
``context.volume`` (slices, rows, columns; float32) and ``context.extras`` (``spacing``, ``origin``,
``orientation``, ``slice_locations``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..client import targets
from ..client.connection import Connection
from ..contract import Target

__all__ = ["fetch_pixels"]


def fetch_pixels(connection: Connection, target: Target) -> dict[str, Any]:
    """The target series' planes and geometry, read through a viewer opened and closed for it."""
    assert target.series is not None
    _, series = targets.find_series(connection, target.series, target.study)
    viewer = targets.open_series_viewer(connection, series)
    try:
        from osirixgrpc import viewercontroller_pb2

        request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=0)
        pixes = list(connection.call("ViewerControllerPixList", request).pix)
        volume = connection.volume(pixes)
        first = pixes[0]
        spacing = connection.call("DCMPixSpacing", first)
        origin = connection.call("DCMPixOrigin", first)
        orientation = connection.call("DCMPixOrientation", first)
        locations = [float(connection.call("DCMPixSliceLocation", pix).slice_location) for pix in pixes]
    finally:
        targets.close_viewer(connection, viewer)
    return {
        "volume": np.ascontiguousarray(volume),
        "spacing": (float(spacing.spacing_rows), float(spacing.spacing_columns)),
        "origin": (float(origin.origin_x), float(origin.origin_y), float(origin.origin_z)),
        "orientation": tuple(float(v) for v in orientation.orientation),
        "slice_locations": locations,
    }
