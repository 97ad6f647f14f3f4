"""OsiriX's open windows and what they display, over OsiriXgrpc: 2D viewers (slice, frame, WL/WW,
planes) and 3D windows (rendering mode, WL/WW). What a view of OsiriX (the page) reads and sets.

Works against any OsiriX (real or embedded). The calls of one reading are sent together
(:meth:`Connection.call_many`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from osirixgrpc import types_pb2, utilities_pb2, viewercontroller_pb2, vrcontroller_pb2

from ..errors import OsirixError, OsirixTasksError
from ..vocabulary import RENDERING_MODES
from .connection import Connection

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "ViewerState",
    "VrState",
    "viewers",
    "viewer_state",
    "set_display",
    "close_viewer",
    "viewer_volume",
    "vr_windows",
    "vr_state",
    "set_vr",
]

_EMPTY = utilities_pb2.Empty()
_VC = viewercontroller_pb2


def _checked(answer: Any) -> Any:
    if isinstance(answer, OsirixError):
        raise answer
    return answer


@dataclass
class ViewerState:
    """What a 2D viewer displays: its planes (DCMPix uids per frame, slices in display order), the
    displayed slice and frame, WL/WW, and the planes' size and pixel spacing (rows, columns)."""

    uid: str
    title: str
    modality: str
    idx: int
    movie_idx: int
    wl: float
    ww: float
    pix: list[list[str]]
    rows: int
    columns: int
    spacing: list[float]

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


@dataclass
class VrState:
    """A 3D window: title, rendering mode (VR or MIP), WL/WW, and the uid of its 2D viewer."""

    uid: str
    title: str
    mode: str
    wl: float
    ww: float
    viewer: str

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return asdict(self)


def _open_windows(
    connection: Connection, listing: tuple[str, str], front: tuple[str, str], title: str
) -> tuple[list[dict[str, str]], str | None]:
    """The windows one listing RPC names (uid and title, each from ``title``) and the frontmost one's uid."""
    shown, frontmost = connection.call_many([(listing[0], _EMPTY), (front[0], _EMPTY)])
    refs = list(getattr(_checked(shown), listing[1]))
    titles = connection.call_many([(title, ref) for ref in refs])
    listed = [{"uid": ref.osirixrpc_uid, "title": _checked(t).title} for ref, t in zip(refs, titles, strict=True)]
    return listed, None if isinstance(frontmost, OsirixError) else getattr(frontmost, front[1]).osirixrpc_uid


def viewers(connection: Connection) -> tuple[list[dict[str, str]], str | None]:
    """The open 2D viewers (uid and title) and the frontmost one's uid."""
    return _open_windows(
        connection,
        ("OsirixDisplayed2DViewers", "viewer_controllers"),
        ("OsirixFrontmostViewer", "viewer_controller"),
        "ViewerControllerTitle",
    )


def viewer_state(connection: Connection, uid: str) -> ViewerState:
    """A 2D viewer's display state."""
    ref = types_pb2.ViewerController(osirixrpc_uid=uid)
    names: tuple[str, ...] = ("ViewerControllerMaxMovieIdx", "ViewerControllerWLWW", "ViewerControllerTitle")
    names += ("ViewerControllerModality", "ViewerControllerIdx", "ViewerControllerMovieIdx")
    frames, wlww, title, modality, idx, movie_idx = (
        _checked(a) for a in connection.call_many([(n, ref) for n in names])
    )
    lists = connection.call_many(
        [
            ("ViewerControllerPixList", _VC.ViewerControllerPixListRequest(viewer_controller=ref, movie_idx=m))
            for m in range(max(1, frames.max_movie_idx))
        ]
    )
    pix = [[p.osirixrpc_uid for p in _checked(answer).pix] for answer in lists]
    first = types_pb2.DCMPix(osirixrpc_uid=pix[0][0])
    shape, spacing = (_checked(a) for a in connection.call_many([("DCMPixShape", first), ("DCMPixSpacing", first)]))
    return ViewerState(
        uid=uid,
        title=title.title,
        modality=modality.modality,
        idx=idx.idx,
        movie_idx=movie_idx.movie_idx,
        wl=wlww.wl,
        ww=wlww.ww,
        pix=pix,
        rows=shape.rows,
        columns=shape.columns,
        spacing=[spacing.spacing_rows, spacing.spacing_columns],
    )


def set_display(
    connection: Connection,
    uid: str,
    *,
    idx: int | None = None,
    movie_idx: int | None = None,
    wl: float | None = None,
    ww: float | None = None,
) -> None:
    """Change what a 2D viewer displays: frame, slice, WL/WW (each when given)."""
    ref = types_pb2.ViewerController(osirixrpc_uid=uid)
    if movie_idx is not None:
        connection.call(
            "ViewerControllerSetMovieIdx",
            _VC.ViewerControllerSetMovieIdxRequest(viewer_controller=ref, movie_idx=movie_idx),
        )
    if idx is not None:
        connection.call("ViewerControllerSetIdx", _VC.ViewerControllerSetIdxRequest(viewer_controller=ref, idx=idx))
    if wl is not None and ww is not None:
        connection.call(
            "ViewerControllerSetWLWW", _VC.ViewerControllerSetWLWWRequest(viewer_controller=ref, wl=wl, ww=ww)
        )


def close_viewer(connection: Connection, uid: str) -> None:
    """Close a 2D viewer (its ROIs and 3D windows go with it)."""
    connection.call("ViewerControllerCloseViewer", types_pb2.ViewerController(osirixrpc_uid=uid))


def viewer_volume(connection: Connection, uid: str) -> tuple[np.ndarray, tuple[float, float, float]]:
    """The displayed frame of a 2D viewer as a (slices, rows, columns) float32 volume (ARGB: the mean
    of R, G, B) and its voxel size in mm (slice interval along the normal, row and column spacing)."""
    import numpy as np

    ref = types_pb2.ViewerController(osirixrpc_uid=uid)
    movie_idx = connection.call("ViewerControllerMovieIdx", ref).movie_idx
    request = _VC.ViewerControllerPixListRequest(viewer_controller=ref, movie_idx=movie_idx)
    pixes = list(connection.call("ViewerControllerPixList", request).pix)
    volume = connection.volume(pixes)
    if volume.ndim == 4:
        volume = volume[..., 1:4].mean(axis=3).astype(np.float32)
    spacing = connection.call("DCMPixSpacing", pixes[0])
    interval = 1.0
    if len(pixes) > 1:
        orientation, first, second = (
            _checked(a)
            for a in connection.call_many(
                [("DCMPixOrientation", pixes[0]), ("DCMPixOrigin", pixes[0]), ("DCMPixOrigin", pixes[1])]
            )
        )
        normal = np.asarray(orientation.orientation[6:9], dtype=np.float64)
        step = np.array(
            [second.origin_x - first.origin_x, second.origin_y - first.origin_y, second.origin_z - first.origin_z]
        )
        interval = float(abs(np.dot(step, normal))) or 1.0
    return volume, (interval, float(spacing.spacing_rows) or 1.0, float(spacing.spacing_columns) or 1.0)


def vr_windows(connection: Connection) -> tuple[list[dict[str, str]], str | None]:
    """The open 3D windows (uid and title) and the frontmost one's uid."""
    return _open_windows(
        connection,
        ("OsirixDisplayedVRControllers", "vr_controllers"),
        ("OsirixFrontmostVRController", "vr_controller"),
        "VRControllerTitle",
    )


def vr_state(connection: Connection, uid: str) -> VrState:
    """A 3D window's state."""
    ref = types_pb2.VRController(osirixrpc_uid=uid)
    names = ("VRControllerWLWW", "VRControllerTitle", "VRControllerRenderingMode", "VRControllerViewer2D")
    wlww, title, mode, viewer = (_checked(a) for a in connection.call_many([(n, ref) for n in names]))
    return VrState(
        uid=uid,
        title=title.title,
        mode=mode.rendering_mode,
        wl=wlww.wl,
        ww=wlww.ww,
        viewer=viewer.viewer_controller.osirixrpc_uid,
    )


def set_vr(
    connection: Connection, uid: str, *, mode: str | None = None, wl: float | None = None, ww: float | None = None
) -> None:
    """Change a 3D window's rendering mode (VR or MIP) or WL/WW (each when given)."""
    ref = types_pb2.VRController(osirixrpc_uid=uid)
    if mode is not None:
        if mode not in RENDERING_MODES:
            raise OsirixTasksError(f"rendering mode {mode!r} is not one of {', '.join(RENDERING_MODES)}")
        request = vrcontroller_pb2.VRControllerSetRenderingModeRequest(vr_controller=ref, rendering_mode=mode)
        connection.call("VRControllerSetRenderingMode", request)
    if wl is not None and ww is not None:
        connection.call(
            "VRControllerSetWLWW", vrcontroller_pb2.VRControllerSetWLWWRequest(vr_controller=ref, wl=wl, ww=ww)
        )
