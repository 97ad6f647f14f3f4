"""The context of a run given an explicit target (a batch item, ``run --series``): built from the
target's uids, never from what the user looks at, so runs in parallel share no UI state.

- Database: the target study or series as the browser selection (as if the user selected its row).
- Image: a 2D viewer of the target series, opened for the run and closed after it (or the target
  viewer itself); ``pix`` is its displayed DCMPix.
- ROI: a viewer of the series (an open one when there is one, else one opened for the run) and its
  ROIs named as the target says (every ROI when it names none).
- VRController: a 3D window (VR) on such a viewer.

Closing a viewer opened for the run brings back the window that was frontmost before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from osirixgrpc import utilities_pb2, viewercontroller_pb2

from ..client import targets
from ..context import TaskContext
from ..contract import Target
from ..errors import ContextUnavailable
from ..model import TaskType

__all__ = ["fill_for_target", "TARGETED"]

_EMPTY = utilities_pb2.Empty()


def _needs_series(context: TaskContext, target: Target) -> None:
    if not target.series and not target.viewer:
        raise ContextUnavailable(
            f"'{context.task.name}' is a {context.task.type.value} task: it works on a series, and its target names "
            f"only the study {target.study} - give it series (e.g. 'osirix-tasks batch ... --where "
            '"study_uid=..."\' or SERIES_UID arguments)'
        )


def _database(context: TaskContext, target: Target) -> None:
    connection = context.connection
    context.browser = connection.call("OsirixCurrentBrowser", _EMPTY).browser_controller
    if target.series:
        _, series = targets.find_series(connection, target.series, target.study)
        context.studies, context.series = [], [series]  # as if the user had selected that series' row
    elif target.study:
        context.studies, context.series = [targets.find_study(connection, target.study)], []
    else:
        raise ContextUnavailable(f"'{context.task.name}' was given a target without a study or a series")


def _series_viewer(context: TaskContext, target: Target, *, reuse_open: bool) -> Any:
    """The target viewer, an open viewer of the target series (when ``reuse_open``), or a viewer
    opened for the run (closed by ``context.close()``)."""
    connection = context.connection
    if target.viewer:
        return viewercontroller_pb2.ViewerController(osirixrpc_uid=target.viewer)
    assert target.series is not None
    if reuse_open:
        viewer = targets.viewer_of_series(connection, target.series)
        if viewer is not None:
            return viewer
    _, series = targets.find_series(connection, target.series, target.study)
    viewer = targets.open_series_viewer(connection, series)
    context.cleanups.append(lambda: targets.close_viewer(connection, viewer))
    return viewer


def _image(context: TaskContext, target: Target) -> None:
    _needs_series(context, target)
    context.viewer = _series_viewer(context, target, reuse_open=False)
    context.pix = context.connection.call("ViewerControllerCurDCM", context.viewer).pix


def _roi(context: TaskContext, target: Target) -> None:
    _needs_series(context, target)
    context.viewer = _series_viewer(context, target, reuse_open=True)
    context.rois = targets.rois_by_name(context.connection, context.viewer, target.rois)
    if not context.rois:
        named = f"named {', '.join(repr(n) for n in target.rois)} " if target.rois else ""
        raise ContextUnavailable(
            f"'{context.task.name}' works on ROIs and the series {target.series or target.viewer} has none "
            f"{named}- draw them (or give the names of ROIs it has), then run it again"
        )


def _vr(context: TaskContext, target: Target) -> None:
    _needs_series(context, target)
    context.viewer = _series_viewer(context, target, reuse_open=False)
    request = viewercontroller_pb2.ViewerControllerOpenVRViewerForModeRequest(
        viewer_controller=context.viewer, mode="VR"
    )
    context.vr_controller = context.connection.call("ViewerControllerOpenVRViewerForMode", request).vr_controller


TARGETED: dict[TaskType, Callable[[TaskContext, Target], None]] = {
    TaskType.DATABASE: _database,
    TaskType.IMAGE: _image,
    TaskType.ROI: _roi,
    TaskType.VR_CONTROLLER: _vr,
}


def fill_for_target(context: TaskContext, target: Target) -> None:
    """Fill ``context`` for its task type from ``target`` (what it opens is undone by ``context.close()``)."""
    try:
        TARGETED[context.task.type](context, target)
    except BaseException:
        context.close(keep_connection=True)  # a viewer opened before the failure is closed again
        raise
