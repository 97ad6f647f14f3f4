"""The builtin context plugin: connect to OsiriX and hand each task type the objects it needs.

Builtins are plugins: this module uses the same hooks any pack can implement.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from osirixgrpc import utilities_pb2

from ..client import Connection
from ..context import TaskContext
from ..errors import ContextUnavailable, OsirixError, OsirixTasksError, OsirixUnreachable
from ..hookspecs import hookimpl
from ..model import TaskSpec, TaskType
from .pixel_context import fill_pixels
from .target_context import fill_for_target

_EMPTY = utilities_pb2.Empty()


def _frontmost_viewer(context: TaskContext) -> Any:
    try:
        return context.connection.call("OsirixFrontmostViewer", _EMPTY).viewer_controller
    except OsirixUnreachable:
        raise
    except OsirixError:
        raise ContextUnavailable(
            f"'{context.task.name}' works on the frontmost 2D viewer and none is open - open a series in a 2D viewer "
            "in OsiriX (double-click it in the database window; embedded OsiriX: 'osirix-tasks open SERIES_UID'), "
            "then run it again"
        ) from None


def _database(context: TaskContext) -> None:
    context.browser = context.connection.call("OsirixCurrentBrowser", _EMPTY).browser_controller
    selection = context.connection.call("BrowserControllerDatabaseSelection", context.browser)
    context.studies, context.series = list(selection.studies), list(selection.series)


def _image(context: TaskContext) -> None:
    context.viewer = _frontmost_viewer(context)
    context.pix = context.connection.call("ViewerControllerCurDCM", context.viewer).pix


def _roi(context: TaskContext) -> None:
    context.viewer = _frontmost_viewer(context)
    context.rois = list(context.connection.call("ViewerControllerSelectedROIs", context.viewer).rois)
    if not context.rois:
        raise ContextUnavailable(
            f"'{context.task.name}' works on the selected ROIs and none is selected in the frontmost viewer - select "
            "one or more ROIs (click, shift-click; embedded OsiriX: 'osirix-tasks select --roi NAME'), then run it "
            "again"
        )


def _vr(context: TaskContext) -> None:
    try:
        context.vr_controller = context.connection.call("OsirixFrontmostVRController", _EMPTY).vr_controller
    except OsirixUnreachable:
        raise
    except OsirixError:
        raise ContextUnavailable(
            f"'{context.task.name}' works on the frontmost 3D window and none is open - open one from a 2D viewer "
            "(3D Volume Rendering or 3D MIP), then run it again"
        ) from None
    context.viewer = context.connection.call("VRControllerViewer2D", context.vr_controller).viewer_controller


FILL: dict[TaskType, Callable[[TaskContext], None]] = {
    TaskType.DATABASE: _database,
    TaskType.IMAGE: _image,
    TaskType.ROI: _roi,
    TaskType.VR_CONTROLLER: _vr,
}


@hookimpl(tryfirst=True)
def osirix_tasks_context(context: TaskContext, task: TaskSpec) -> None:
    """Connect (server from the environment, else the last active server, as pyosirix; a connection
    already in the context is kept) and fill by task type: from the run's explicit target when it has
    one (:mod:`.target_context`), else from what the user looks at; a task declared ``pixels=True``
    gets its series' pixels in ``context.volume`` (:mod:`.pixel_context`)."""
    if context.connection is None:
        try:
            context.connection = Connection(context.server)
        except OsirixTasksError as exc:  # NoServer or a broken server_configs.json
            raise ContextUnavailable(str(exc)) from None
    context.server = context.connection.address
    context.stub = context.connection.stub
    try:
        if context.target is not None:
            fill_for_target(context, context.target)
        else:
            FILL[task.type](context)
        if task.pixels:
            fill_pixels(context)
    except OsirixUnreachable:
        raise ContextUnavailable(
            f"no OsiriX answers at {context.server} - start OsiriX with the OsiriXgrpc plugin (or the embedded one: "
            "'osirix-tasks serve'), or run the task with --server PORT of one that runs"
        ) from None
    except OsirixError as exc:
        raise ContextUnavailable(f"OsiriX at {context.server} answered: {exc}") from None


@hookimpl(trylast=True)
def osirix_tasks_run_task(context: TaskContext, task: TaskSpec, function: Callable[..., Any]) -> Any:
    """Call the task body."""
    result = function(context)
    return True if result is None else result
