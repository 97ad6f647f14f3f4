"""Orthogonal MPR of a 2D viewer's series: the acquired plane and the two planes at right angles to it.

The volume is the viewer's current frame in display order (``OsirixReader.volume``). Each reformatted
plane keeps the image's own pixels (no interpolation): a row plane is ``volume[:, row, :]``, a column
plane ``volume[:, :, column]``. Their screen axes follow the radiologist's convention (patient's left to
the right of the screen, posterior to the right in a sagittal, inferior down): an axis is reversed when
its direction in the patient points the other way.

A volume whose slices do not stack along the plane's normal (a gantry tilt, or shear) or whose slices
are not evenly spaced is refused with the reason: reslicing it without resampling would put anatomy in
the wrong place. Resample it first (OsiriX's own MPR resamples; our emulator's
``ViewerControllerResampleViewerController`` does too).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import MprRefused, OsirixTasksError

__all__ = ["Stack", "PLANES", "stack_of", "reslice", "plane_geometry", "StackCache", "MprRefused"]

#: The three planes: the acquired one (its slices) and the two reformats (one row, one column).
PLANES = ("slice", "row", "column")
#: Largest angle (degrees) between the slice step and the normal taken as "no tilt".
TILT_TOLERANCE_DEGREES = 0.5
#: Largest relative spread of the slice intervals taken as "evenly spaced".
SPACING_TOLERANCE = 0.01
#: The screen's conventional direction along each patient axis (x to the left, y to posterior, z down).
CONVENTION = np.array([1.0, 1.0, -1.0])


@dataclass(frozen=True)
class Stack:
    """A volume (slices, rows, columns) and where it lies in the patient (DICOM LPS, mm)."""

    volume: np.ndarray
    row_direction: np.ndarray  # along a row: increasing column (ImageOrientationPatient[0:3])
    column_direction: np.ndarray  # down a column: increasing row (ImageOrientationPatient[3:6])
    step: np.ndarray  # from one slice's origin to the next, mm
    spacing: tuple[float, float]  # (between rows, between columns), mm
    origin: np.ndarray  # the first slice's top-left pixel centre

    @property
    def interval(self) -> float:
        """The distance between two slices, mm."""
        return float(np.linalg.norm(self.step)) or 1.0


def stack_of(
    volume: np.ndarray, orientation: list[float], origins: list[list[float]], spacing: tuple[float, float]
) -> Stack:
    """A :class:`Stack`, or :class:`MprRefused` naming why the slices do not make a regular volume."""
    if volume.ndim != 3 or volume.shape[0] < 2:
        raise MprRefused("MPR needs a volume of at least two slices - open a series with several slices")
    row_dir = np.asarray(orientation[0:3], dtype=np.float64)
    col_dir = np.asarray(orientation[3:6], dtype=np.float64)
    normal = np.cross(row_dir, col_dir)
    if not np.isfinite(normal).all() or np.linalg.norm(normal) < 0.5:
        raise MprRefused("the series has no usable ImageOrientationPatient - MPR needs the image orientation")
    normal /= np.linalg.norm(normal)
    points = np.asarray(origins, dtype=np.float64)
    steps = np.diff(points, axis=0)
    lengths = np.linalg.norm(steps, axis=1)
    if (lengths <= 1e-6).any():
        raise MprRefused("two slices of the series are at the same position - MPR needs one slice per position")
    mean = steps.mean(axis=0)
    cosine = abs(float(np.dot(mean, normal))) / float(np.linalg.norm(mean))
    tilt = float(np.degrees(np.arccos(min(1.0, cosine))))
    if tilt > TILT_TOLERANCE_DEGREES:
        raise MprRefused(
            f"the slices are tilted by {tilt:.1f} degrees from the image plane's normal (gantry tilt): "
            "MPR refuses it rather than misplace anatomy - resample the series first"
        )
    if float(lengths.max() - lengths.min()) > SPACING_TOLERANCE * float(lengths.mean()):
        raise MprRefused(
            f"the slices are unevenly spaced ({lengths.min():.3g} to {lengths.max():.3g} mm) - "
            "MPR needs evenly spaced slices: resample the series first"
        )
    return Stack(volume, row_dir, col_dir, mean, spacing, points[0])


def _conventional(direction: np.ndarray) -> bool:
    """True when an axis pointing along ``direction`` already points the conventional screen way."""
    dominant = int(np.argmax(np.abs(direction)))
    return bool(direction[dominant] * CONVENTION[dominant] >= 0)


def plane_geometry(stack: Stack, plane: str) -> dict[str, Any]:
    """How a plane maps to the volume and the patient: its screen x and y axes (volume axis, reversed or
    not, patient direction), its size, pixel spacing and the count of planes of its kind."""
    slices, rows, columns = stack.volume.shape
    unit_step = stack.step / stack.interval
    axes = {
        "slice": (
            ("column", columns, stack.row_direction, stack.spacing[1]),
            ("row", rows, stack.column_direction, stack.spacing[0]),
            slices,
        ),
        "row": (
            ("column", columns, stack.row_direction, stack.spacing[1]),
            ("slice", slices, unit_step, stack.interval),
            rows,
        ),
        "column": (
            ("row", rows, stack.column_direction, stack.spacing[0]),
            ("slice", slices, unit_step, stack.interval),
            columns,
        ),
    }
    if plane not in axes:
        raise OsirixTasksError(f"plane must be one of {', '.join(PLANES)}, got {plane!r}")
    x, y, count = axes[plane]
    out: dict[str, Any] = {"plane": plane, "count": count}
    for name, (axis, size, direction, spacing) in (("x", x), ("y", y)):
        reversed_ = plane != "slice" and not _conventional(direction)  # the acquired plane shows as acquired
        out[name] = {
            "axis": axis,
            "size": size,
            "reversed": reversed_,
            "direction": [float(v) for v in (-direction if reversed_ else direction)],
            "spacing": float(spacing),
        }
    return out


def reslice(stack: Stack, plane: str, index: int) -> tuple[np.ndarray, dict[str, Any]]:
    """One plane of the stack (rows = screen y, columns = screen x) and its geometry."""
    geometry = plane_geometry(stack, plane)
    if not 0 <= index < geometry["count"]:
        raise OsirixTasksError(f"index: {plane} planes are numbered 0 to {geometry['count'] - 1}, got {index}")
    if plane == "slice":
        image = stack.volume[index]
    elif plane == "row":
        image = stack.volume[:, index, :]
    else:
        image = stack.volume[:, :, index]
    if geometry["x"]["reversed"]:
        image = image[:, ::-1]
    if geometry["y"]["reversed"]:
        image = image[::-1, :]
    return np.ascontiguousarray(image, dtype=np.float32), geometry


class StackCache:
    """The stacks of the last few viewers, bounded by a byte budget (oldest dropped first)."""

    def __init__(self, budget_bytes: int = 768 << 20):
        self.budget = budget_bytes
        self._stacks: OrderedDict[tuple[str, ...], Stack] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, ...]) -> Stack | None:
        """The stack kept under ``key``, or None."""
        with self._lock:
            stack = self._stacks.get(key)
            if stack is not None:
                self._stacks.move_to_end(key)
            return stack

    def put(self, key: tuple[str, ...], stack: Stack) -> None:
        """Keep a stack; older ones go while the budget is exceeded (one stack always stays)."""
        with self._lock:
            self._stacks[key] = stack
            self._stacks.move_to_end(key)
            while len(self._stacks) > 1 and sum(s.volume.nbytes for s in self._stacks.values()) > self.budget:
                self._stacks.popitem(last=False)
