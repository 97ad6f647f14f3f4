"""A series' pixels and geometry in one piece, for tasks declared ``pixels=True`` (``context.volume``).

Read with the fast client (:meth:`Connection.volume`) from a 2D viewer: the run's own viewer when it
has one, else a viewer of the series opened for a moment and closed again (the frontmost window
comes back). A batch ships the result with an item to workers that cannot reach OsiriX; a run that
can reach it gets it from its context hook. Only OsiriXgrpc calls: this works on a real OsiriX too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from osirixgrpc import viewercontroller_pb2

from ..contract import Target
from . import targets
from .connection import Connection

__all__ = ["viewer_pixels", "series_pixels", "opened_series_pixels"]


def viewer_pixels(connection: Connection, viewer: Any) -> dict[str, Any]:
    """The planes of a 2D viewer (slices, rows, columns; float32) as ``volume``, with ``spacing``,
    ``origin``, ``orientation`` and ``slice_locations``."""
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=0)
    pixes = list(connection.call("ViewerControllerPixList", request).pix)
    volume = connection.volume(pixes)
    first = pixes[0]
    spacing = connection.call("DCMPixSpacing", first)
    origin = connection.call("DCMPixOrigin", first)
    orientation = connection.call("DCMPixOrientation", first)
    locations = [float(connection.call("DCMPixSliceLocation", pix).slice_location) for pix in pixes]
    return {
        "volume": np.ascontiguousarray(volume),
        "spacing": (float(spacing.spacing_rows), float(spacing.spacing_columns)),
        "origin": (float(origin.origin_x), float(origin.origin_y), float(origin.origin_z)),
        "orientation": tuple(float(v) for v in orientation.orientation),
        "slice_locations": locations,
    }


def opened_series_pixels(connection: Connection, series: Any) -> dict[str, Any]:
    """:func:`viewer_pixels` of a DicomSeries, through a viewer opened for it and closed after."""
    viewer = targets.open_series_viewer(connection, series)
    try:
        return viewer_pixels(connection, viewer)
    finally:
        targets.close_viewer(connection, viewer)


def series_pixels(connection: Connection, target: Target) -> dict[str, Any]:
    """:func:`viewer_pixels` of the target series, through a viewer opened for it and closed after."""
    assert target.series is not None
    _, series = targets.find_series(connection, target.series, target.study)
    return opened_series_pixels(connection, series)
