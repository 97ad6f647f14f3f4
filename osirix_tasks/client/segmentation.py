"""A task's label mask saved as a DICOM SEG in OsiriX's database, and shown as ROIs in the viewer.

Works on a real OsiriX as on the embedded one, through the protocol only: the SEG is built here
with highdicom from the viewer's source files (their paths come through the protocol), handed to
OsiriX with ``BrowserControllerCopyFilesIfNeeded`` (it copies it into its database), and each
label's mask is drawn in the viewer as brush ROIs (``ViewerControllerNewROI``), one per slice.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from osirixgrpc import browsercontroller_pb2, viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty
from pydicom.uid import generate_uid

from ..errors import OsirixTasksError
from ..roidicom.evidence import source_header
from ..roidicom.masks import texture_from_mask
from ..roidicom.seg import SegmentSpec, build_seg
from ..vocabulary import RoiCode
from .connection import Connection
from .roi_read import source_of

__all__ = ["SavedSegmentation", "save_segmentation", "label_names", "check_labels"]

#: Colours given to labels in turn (RGB), when none is asked for.
PALETTE = [(255, 64, 64), (64, 200, 64), (64, 128, 255), (255, 200, 0), (200, 64, 255), (0, 220, 220)]


@dataclass
class SavedSegmentation:
    """What :func:`save_segmentation` did: the SEG written (and handed to OsiriX), the ROIs drawn.

    ``path`` is None for a SEG the OsiriX machine writes later (a batch item on a remote worker)."""

    path: Path | None
    sop_instance_uid: str
    series_instance_uid: str
    labels: dict[int, str]
    rois: list[Any] = field(default_factory=list)


def label_names(labels: np.ndarray, names: Sequence[str] | Mapping[int, str] | None) -> dict[int, str]:
    """The name of each label value present (1, 2 ...): ``names`` as a list (label 1 first) or a mapping."""
    values = [int(v) for v in np.unique(labels) if v != 0]
    if names is None:
        return {v: f"Label {v}" for v in values}
    if isinstance(names, Mapping):
        return {v: str(names.get(v, f"Label {v}")) for v in values}
    listed = list(names)
    return {v: listed[v - 1] if 0 < v <= len(listed) else f"Label {v}" for v in values}


def check_labels(labels: np.ndarray, planes: int, rows: int, columns: int) -> np.ndarray:
    """``labels`` as uint16 planes x rows x columns (a 2D mask is one plane); OsirixTasksError when they
    do not fit the series or are not label values."""
    array = np.asarray(labels)
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.shape != (planes, rows, columns):
        raise OsirixTasksError(
            f"the labels are {array.shape} but the viewer shows {planes} slices of {rows}x{columns} - "
            "give one label value per pixel of every slice, in the viewer's slice order"
        )
    if not np.issubdtype(array.dtype, np.integer) or array.min() < 0 or array.max() > 65535:
        raise OsirixTasksError("labels must be whole numbers from 0 (background) to 65535")
    return array.astype(np.uint16)


def _draw(connection: Connection, viewer: Any, movie_idx: int, labels: np.ndarray, names: dict[int, str]) -> list[Any]:
    request = viewercontroller_pb2.ViewerControllerNewROIRequest
    drawn = []
    for index, plane in enumerate(labels):
        for value, name in names.items():
            placed = texture_from_mask(plane == value)
            if placed is None:
                continue
            texture, (x, y) = placed
            color = PALETTE[(value - 1) % len(PALETTE)]
            message = request(
                viewer_controller=viewer,
                idx=index,
                movie_idx=movie_idx,
                itype=RoiCode.BRUSH,
                name=name,
                buffer=request.Buffer(buffer=texture.ravel().tolist(), rows=texture.shape[0], columns=texture.shape[1]),
                buffer_position_x=x,
                buffer_position_y=y,
                color=request.Color(r=color[0], g=color[1], b=color[2]),
                opacity=0.5,
                thickness=1,
            )
            drawn.append(connection.call("ViewerControllerNewROI", message).roi)
    return drawn


def save_segmentation(
    connection: Connection,
    viewer: Any,
    labels: np.ndarray,
    names: Sequence[str] | Mapping[int, str] | None = None,
    *,
    movie_idx: int = 0,
    series_description: str = "Segmentation",
    algorithm: str = "osirix-tasks",
    draw: bool = True,
    folder: str | os.PathLike[str] | None = None,
    series_uid: str | None = None,
    sop_instance_uid: str | None = None,
) -> SavedSegmentation:
    """Save ``labels`` (slices x rows x columns of label values, 0 = background, in the viewer's slice
    order; a boolean mask is label 1) as a SEG of the viewer's series in OsiriX's database, one
    segment per label named by ``names``; with ``draw``, show each label as brush ROIs in the viewer.

    The SEG is written in ``folder`` (default: a private temporary folder) before OsiriX copies it;
    ``series_uid`` and ``sop_instance_uid`` are its uids (default: new ones).
    Raises :class:`OsirixTasksError` when the labels do not fit the viewer or hold no label.
    """
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=movie_idx)
    pixes = list(connection.call("ViewerControllerPixList", request).pix)
    if not pixes:
        raise OsirixTasksError("the viewer shows no image")
    sources = [source_of(connection, pix, index) for index, pix in enumerate(pixes)]
    array = check_labels(labels, len(sources), sources[0].rows, sources[0].columns)
    named = label_names(array, names)
    if not named:
        raise OsirixTasksError("the labels hold no label (every value is 0): nothing to save")
    # One segment per label, numbered 1, 2 ... in label order.
    order = sorted(named)
    renumbered = np.zeros_like(array)
    for number, value in enumerate(order, start=1):
        renumbered[array == value] = number
    specs = [SegmentSpec(named[v], PALETTE[(v - 1) % len(PALETTE)], automatic=True) for v in order]
    series_uid = series_uid or str(generate_uid())
    seg = build_seg(
        [source_header(s.path) for s in sources],
        renumbered,
        specs,
        series_uid=series_uid,
        series_number=9000,
        series_description=series_description,
        algorithm=algorithm,
        sop_instance_uid=sop_instance_uid,
    )
    target = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="osirix-seg-"))
    path = target / f"{seg.SOPInstanceUID}.dcm"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        seg.save_as(handle, enforce_file_format=True)
    browser = connection.call("OsirixCurrentBrowser", Empty()).browser_controller
    copy = browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(browser=browser, paths=[str(path)])
    connection.call("BrowserControllerCopyFilesIfNeeded", copy)
    saved = SavedSegmentation(path, str(seg.SOPInstanceUID), series_uid, {v: named[v] for v in order})
    if draw:
        saved.rois = _draw(connection, viewer, movie_idx, array, named)
    return saved
