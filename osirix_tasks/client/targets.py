"""A run's explicit target in OsiriX terms: the study, series, viewer and ROIs behind its uids.

Only OsiriXgrpc calls are used, so this works on a real OsiriX too. OsiriX has no call that finds a
study or a series by uid, so the browser's studies are walked; a target that names its study too (a
batch item always does) stops at that study and reads only its series.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

from osirixgrpc import browsercontroller_pb2, utilities_pb2, viewercontroller_pb2

from ..errors import ContextUnavailable, OsirixError, OsirixUnreachable
from .connection import Connection

__all__ = [
    "find_study",
    "find_series",
    "series_of_viewer",
    "open_series_viewer",
    "close_viewer",
    "viewer_of_series",
    "rois_by_name",
]

_EMPTY = utilities_pb2.Empty()


def _browser(connection: Connection) -> Any:
    return connection.call("OsirixCurrentBrowser", _EMPTY).browser_controller


def _uid(connection: Connection, rpc: str, ref: Any, field: str) -> str:
    """An object's UID; "" when OsiriX has none for it (``... not available``)."""
    try:
        return str(getattr(connection.call(rpc, ref), field))
    except OsirixUnreachable:
        raise
    except OsirixError:
        return ""


def find_study(connection: Connection, study_uid: str) -> Any:
    """The DicomStudy whose StudyInstanceUID is ``study_uid``; ContextUnavailable when there is none.
    (One call per study until it is found: asking them all at once costs twice the calls on average.)"""
    for ref in connection.call("BrowserControllerDatabaseStudies", _browser(connection)).studies:
        if _uid(connection, "DicomStudyStudyInstanceUID", ref, "study_instance_uid") == study_uid:
            return ref
    raise ContextUnavailable(
        f"no study with StudyInstanceUID {study_uid} in the OsiriX database at {connection.address} - "
        "it may have been deleted; see 'osirix-tasks db studies'"
    )


def _series_in(connection: Connection, study: Any, series_uid: str) -> Any | None:
    for ref in connection.call("DicomStudySeries", study).series:
        if _uid(connection, "DicomSeriesSeriesInstanceUID", ref, "series_instance_uid") == series_uid:
            return ref
    return None


def find_series(connection: Connection, series_uid: str, study_uid: str | None = None) -> tuple[Any, Any]:
    """(DicomStudy, DicomSeries) of the series ``series_uid`` (as OsiriX keeps it: MR echoes ``UID TE-x``);
    only the study ``study_uid`` is searched when it is given. ContextUnavailable when it is not there."""
    if study_uid:
        studies: Iterable[Any] = [find_study(connection, study_uid)]
    else:
        studies = connection.call("BrowserControllerDatabaseStudies", _browser(connection)).studies
    for study in studies:
        found = _series_in(connection, study, series_uid)
        if found is not None:
            return study, found
    where = f"study {study_uid}" if study_uid else f"the OsiriX database at {connection.address}"
    raise ContextUnavailable(
        f"no series with SeriesInstanceUID {series_uid} in {where} - it may have been deleted; "
        "see 'osirix-tasks db series'"
    )


def series_of_viewer(connection: Connection, viewer: Any) -> str | None:
    """The SeriesInstanceUID (as OsiriX keeps it) shown by a 2D viewer, or None."""
    try:
        pix = connection.call("ViewerControllerCurDCM", viewer).pix
        series = connection.call("DCMPixDicomSeries", pix).dicom_series
        return str(connection.call("DicomSeriesSeriesInstanceUID", series).series_instance_uid)
    except OsirixUnreachable:
        raise
    except OsirixError:
        return None


def viewer_of_series(connection: Connection, series_uid: str) -> Any | None:
    """An open 2D viewer showing the series (the frontmost such one), or None."""
    viewers = list(connection.call("OsirixDisplayed2DViewers", _EMPTY).viewer_controllers)
    for viewer in reversed(viewers):
        if series_of_viewer(connection, viewer) == series_uid:
            return viewer
    return None


def open_series_viewer(connection: Connection, series: Any) -> Any:
    """Open a 2D viewer on a DicomSeries (its images in OsiriX's order) and return it."""
    images = connection.call("DicomSeriesSortedImages", series).sorted_images
    if not images:
        raise ContextUnavailable("the series has no images to open in a 2D viewer - give a series with images")
    request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(
        browser=_browser(connection),
        frames=[browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=images)],
        movie=False,
    )
    return connection.call("BrowserControllerOpenViewerFromImages", request).viewer


def close_viewer(connection: Connection, viewer: Any) -> None:
    """Close a viewer opened for a run (already closed, or OsiriX gone: nothing to do)."""
    with contextlib.suppress(OsirixError):
        connection.call("ViewerControllerCloseViewer", viewer)


def rois_by_name(connection: Connection, viewer: Any, names: Iterable[str]) -> list[Any]:
    """The viewer's ROIs named ``names`` (every ROI of every slice when no name is given)."""
    wanted = list(names)
    if not wanted:
        request = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=0)
        slices = connection.call("ViewerControllerROIList", request).roi_slices
        return [roi for plane in slices for roi in plane.rois]
    found: list[Any] = []
    for name in wanted:
        request_named = viewercontroller_pb2.ViewerControllerROIsWithNameRequest(viewer_controller=viewer, name=name)
        found.extend(connection.call("ViewerControllerROIsWithName", request_named).rois)
    return found
