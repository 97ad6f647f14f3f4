"""Resampling a moving viewer onto a fixed one, as OsiriX does it (Horos ``ViewerController.m``
``resampleSeries:`` and ``ITKTransform.mm``).

OsiriX builds an ITK image of the moving viewer's current frame and resamples it with an affine
transform onto the grid of the fixed viewer's planes (their size, spacing and slice interval):

- the transform is the rotation between the two orientations with no translation (same study),
  so a point keeps its patient coordinates;
- each image's origin is its first plane's ImagePositionPatient minus half a column spacing in x,
  half a row spacing in y and half the slice thickness in z (patient axes, as ``ITKTransform``
  writes it), so two series with different spacings are shifted by the difference of those halves;
- values come from trilinear interpolation; a point more than half a voxel outside the moving
  volume takes the series' minimum value, within that half voxel the nearest edge value;
- the new planes are copies of the fixed viewer's planes carrying the resampled pixels and the
  moving series' first image (source file, DicomImage), with the moving viewer's WL/WW.
"""

from __future__ import annotations

import numpy as np

from ..errors import OsirixError
from .workspace import Pix, Viewer

__all__ = ["resample_planes", "check_resamplable"]


def _volumic(viewer: Viewer) -> bool:
    """``resampleSeries:``'s test: several regularly spaced planes, or one plane with an orientation."""
    from .viewer_geometry import compute_interval, is_volumic

    planes = viewer.frames[viewer.movie_idx]
    if len(planes) > 1:
        return all(is_volumic(frame) for frame in viewer.frames) and compute_interval(planes) != 0
    return any(planes[-1].orientation[6:9])


def check_resamplable(fixed: Viewer, moving: Viewer) -> None:
    """Status 0 in our words where OsiriX shows an alert and resamples nothing."""
    if not _volumic(fixed) or not _volumic(moving):
        raise OsirixError("3D Resampling requires volumic data: both viewers need regularly spaced planes")
    if fixed.study_instance_uid != moving.study_instance_uid:
        raise OsirixError("Resampling is only available for series in the SAME study")


def _half_voxel(pix: Pix) -> np.ndarray:
    return np.array([pix.spacing[1] / 2, pix.spacing[0] / 2, pix.slice_thickness / 2])


def _world_grid(plane: Pix) -> np.ndarray:
    """Patient coordinates (mm) of every pixel centre of a plane, shape (rows, columns, 3)."""
    row_dir, col_dir = np.asarray(plane.orientation[0:3]), np.asarray(plane.orientation[3:6])
    r, c = np.mgrid[0 : plane.rows, 0 : plane.columns].astype(np.float64)
    return (
        np.asarray(plane.origin) + c[..., None] * plane.spacing[1] * row_dir + r[..., None] * plane.spacing[0] * col_dir
    )


def resample_planes(moving: list[Pix], fixed: list[Pix], interval: float) -> list[np.ndarray]:
    """The moving planes' values on every fixed plane (float32 arrays); ``interval`` is the moving
    slice interval (mm, > 0 along the normal)."""
    volume = np.stack([p.greyscale() for p in moving]).astype(np.float64)
    first = moving[0]
    axes = np.asarray(first.orientation, dtype=np.float64).reshape(3, 3)
    spacing = np.array([first.spacing[1], first.spacing[0], interval or 1.0])
    shift = _half_voxel(first) - _half_voxel(fixed[0])
    padding = float(volume.min())
    out = []
    for plane in fixed:
        relative = _world_grid(plane) + shift - np.asarray(first.origin)
        index = relative @ axes.T / spacing  # (column, row, slice) continuous indices
        out.append(_linear(volume, index[..., 2], index[..., 1], index[..., 0], padding))
    return out


def _linear(volume: np.ndarray, s: np.ndarray, r: np.ndarray, c: np.ndarray, padding: float) -> np.ndarray:
    """ITK's linear interpolation: inside within half a voxel of the edges, neighbours clamped."""
    depth, rows, columns = volume.shape
    s, r, c = _snap(s), _snap(r), _snap(c)
    inside = (s >= -0.5) & (s < depth - 0.5) & (r >= -0.5) & (r < rows - 0.5) & (c >= -0.5) & (c < columns - 0.5)
    s0, r0, c0 = np.floor(s).astype(int), np.floor(r).astype(int), np.floor(c).astype(int)
    ds, dr, dc = s - s0, r - r0, c - c0
    value = np.zeros(s.shape)
    for si, ws in ((s0, 1 - ds), (s0 + 1, ds)):
        for ri, wr in ((r0, 1 - dr), (r0 + 1, dr)):
            for ci, wc in ((c0, 1 - dc), (c0 + 1, dc)):
                value += (
                    volume[np.clip(si, 0, depth - 1), np.clip(ri, 0, rows - 1), np.clip(ci, 0, columns - 1)]
                    * ws
                    * wr
                    * wc
                )
    return np.where(inside, value, padding).astype(np.float32)


def _snap(index: np.ndarray) -> np.ndarray:
    """Indices within 1e-4 of a whole number are that number (positions carry float noise)."""
    nearest = np.rint(index)
    return np.where(np.abs(index - nearest) < 1e-4, nearest, index)
