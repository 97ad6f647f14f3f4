"""A series' pixels and geometry in one piece, for tasks declared ``pixels=True`` (``context.volume``).

Read with the fast client (:meth:`Connection.volume`) from a 2D viewer: the run's own viewer when it
has one, else a viewer of the series opened for a moment and closed again (the frontmost window
comes back). A batch ships the result with an item to workers that cannot reach OsiriX; a run that
can reach it gets it from its context hook. Only OsiriXgrpc calls: this works on a real OsiriX too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from osirixgrpc import dcmpix_pb2, viewercontroller_pb2

from ..contract import Target
from ..errors import OsirixError
from . import targets
from .connection import Connection
from .roi_listing import list_rois

__all__ = ["viewer_pixels", "series_pixels", "opened_series_pixels", "roi_masks"]


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


def roi_masks(connection: Connection, viewer: Any, rois: list[Any]) -> list[dict[str, Any]]:
    """The ROIs ``rois`` (references) of a viewer's first frame as plain data, for a task that works on
    pixels: ``name``, ``type`` (OsiriX's word), ``slice`` (the plane, 0 first), ``points`` (x = column,
    y = row) and ``mask`` (the plane's rows x columns, True inside the ROI, as OsiriX's
    ``DCMPixGetMapFromROI`` says; None for the types it has no map of: rectangles, ovals ...)."""
    import numpy as np

    wanted = {roi.osirixrpc_uid for roi in rois}
    found = [info for info in list_rois(connection, viewer, frame=0, drawing=True) if info.uid in wanted]
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=0)
    planes = list(connection.call("ViewerControllerPixList", request).pix)
    maps = connection.call_many(
        [
            ("DCMPixGetMapFromROI", dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=planes[info.slice], roi=info.ref))
            for info in found
        ]
    )
    masks = []
    for info, answer in zip(found, maps, strict=True):
        mask = None  # OsiriX maps brushes, polygons and pencils; the other types have their points
        if not isinstance(answer, OsirixError):
            mask = np.asarray(answer.map, dtype=bool).reshape(answer.rows, answer.columns)
        masks.append({"name": info.name, "type": info.type, "slice": info.slice, "mask": mask, "points": info.points})
    return masks


def series_pixels(connection: Connection, target: Target, *, rois: bool = False) -> dict[str, Any]:
    """:func:`viewer_pixels` of the target series, through a viewer opened for it and closed after; with
    ``rois``, the series' ROIs named as the target says (all when it names none) in ``rois``
    (:func:`roi_masks`): the ROIs kept with the series, loaded by the viewer."""
    assert target.series is not None
    _, series = targets.find_series(connection, target.series, target.study)
    viewer = targets.open_series_viewer(connection, series)
    try:
        pixels = viewer_pixels(connection, viewer)
        if rois:
            pixels["rois"] = roi_masks(connection, viewer, targets.rois_by_name(connection, viewer, target.rois))
        return pixels
    finally:
        targets.close_viewer(connection, viewer)
