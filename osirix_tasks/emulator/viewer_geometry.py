"""The geometry of a viewer's planes: whether they form a volume, and their slice interval."""

from __future__ import annotations

import numpy as np

from .pix import Pix

__all__ = ["is_volumic", "compute_interval"]


def _positions(planes: list[Pix]) -> np.ndarray:
    normal = np.asarray(planes[0].orientation[6:9])
    return np.array([np.dot(np.asarray(p.origin), normal) for p in planes])


def is_volumic(planes: list[Pix]) -> bool:
    """Same size and orientation everywhere and a regular spacing along the normal (>= 2 planes)."""
    if len(planes) < 2:
        return False
    first = planes[0]
    if any(
        p.data.shape != first.data.shape or not np.allclose(p.orientation, first.orientation, atol=1e-4) for p in planes
    ):
        return False
    gaps = np.diff(_positions(planes))
    return bool(np.all(np.abs(gaps) > 1e-6) and np.allclose(gaps, gaps[0], rtol=1e-3, atol=1e-3))


def compute_interval(planes: list[Pix]) -> float:
    """The distance from the first plane to the second along the normal (mm), 0 for one plane."""
    if len(planes) < 2:
        return 0.0
    return float(np.diff(_positions(planes[:2]))[0])
