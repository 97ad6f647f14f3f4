"""The smoothing spline OsiriX draws and measures polygon ROIs through (Horos ``ROI.m``, ``spline()``).

Open polygon (10), closed polygon (11) and pencil (15) ROIs with at least three points are shown
and measured along a cubic spline through their points, parametrised by the distance between
points. The vertices are padded at both ends with their neighbours across the seam (the last
vertex before the first, the second after the last), a cubic spline is solved for x and for y
with the tridiagonal (Thomas) algorithm, and every interval between two vertices is sampled at
its start and then once per unit of ``scale`` x its length. A closed curve repeats its first
vertex at the end before this. When two consecutive padded points coincide the spline is not
computed and OsiriX uses the raw points.

Every value is computed with the operations of ``spline()`` in the same order (double precision),
so the points are OsiriX's to the last bit; only the sweeps run as Python loops, the rest is
vectorised. :func:`spline_size` tells how many points a spline will have before it is computed.
"""

from __future__ import annotations

import numpy as np

__all__ = ["spline_points", "spline_size", "SPLINE_SCALE"]

#: The sampling scale OsiriX measures with (``splinePoints`` uses 5; the spline caps it at 5).
SPLINE_SCALE = 5.0
#: Points computed at a time (bounds the temporaries of long intervals).
_CHUNK = 1 << 16


def _padded(points: np.ndarray, closed: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """``px``, ``py``: the vertices (the first repeated at the end when closed) padded at both ends,
    or None when OsiriX does not smooth them (fewer than two, or two consecutive ones equal)."""
    vertices = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if closed and len(vertices):
        vertices = np.vstack([vertices, vertices[:1]])
    total = len(vertices)
    if total < 2:
        return None
    nb = total + 2
    px, py = np.empty(nb), np.empty(nb)
    px[1 : total + 1], py[1 : total + 1] = vertices[:, 0], vertices[:, 1]
    px[0], py[0] = px[nb - 3], py[nb - 3]
    px[nb - 1], py[nb - 1] = px[2], py[2]
    if np.any((px[1:] == px[:-1]) & (py[1:] == py[:-1])):
        return None
    return px, py


def _steps(px: np.ndarray, py: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """``h`` (scaled distance to the next point) and ``d`` (running sum of ``h``)."""
    nb = len(px)
    xi, yi = px[1:] - px[:-1], py[1:] - py[:-1]
    h = np.zeros(nb)
    with np.errstate(over="ignore", invalid="ignore"):
        h[: nb - 1] = np.sqrt(xi * xi + yi * yi) * min(scale, 5.0)
    d = np.zeros(nb)
    d[1:] = np.cumsum(h[: nb - 1])  # sequential, as d[i + 1] = d[i] + h[i]
    return h, d


def spline_size(points: np.ndarray, closed: bool, scale: float = SPLINE_SCALE) -> float:
    """How many points :func:`spline_points` answers (0 when OsiriX keeps the raw points); cheap."""
    padded = _padded(points, closed)
    if padded is None:
        return 0.0
    h, _ = _steps(*padded, scale)
    intervals = h[1 : len(h) - 2]
    with np.errstate(invalid="ignore"):
        return float(len(intervals) + np.sum(np.floor(intervals)))


def _sweep(g: list[float], a: list[float], gam: list[float], bet: list[float]) -> np.ndarray:
    """The tridiagonal solve for one coordinate (diagonal 4); index 0 is unused."""
    nb = len(g)
    out = [0.0] * nb
    out[1] = g[1] / 4.0
    for j in range(2, nb - 1):
        out[j] = (g[j] - a[j] * out[j - 1]) / bet[j]
    for j in range(nb - 2, 0, -1):
        out[j] -= gam[j + 1] * out[j + 1]
    return np.asarray(out)


def _pivots(a: np.ndarray, c: np.ndarray) -> tuple[list[float], list[float]]:
    """``gam`` and ``bet`` of the sweep: the same for x and y."""
    nb = len(a)
    a_list, c_list = a.tolist(), c.tolist()
    gam, bet = [0.0] * nb, [0.0] * nb
    pivot = 4.0
    for j in range(2, nb - 1):
        gam[j] = c_list[j - 1] / pivot
        pivot = 4.0 - a_list[j] * gam[j]
        bet[j] = pivot
    return gam, bet


def _second_derivatives(p: np.ndarray, d: np.ndarray, a: list[float], gam: list[float], bet: list[float]) -> np.ndarray:
    nb = len(p)
    g = np.zeros(nb)
    i = np.arange(1, nb - 1)
    g[1 : nb - 1] = (
        6.0
        * (((p[i - 1] - p[i]) / (d[i - 1] - d[i])) - ((p[i] - p[i + 1]) / (d[i] - d[i + 1])))
        / (d[i - 1] - d[i + 1])
    )
    return _sweep(g.tolist(), a, gam, bet)


def _sample(p: np.ndarray, c: np.ndarray, h: np.ndarray, interval: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``p[i] + b j + c[i] (j j) + d (j j j)`` for each (interval i, step j); step 0 is ``p[i]`` itself."""
    i = interval
    step = h[i]
    cubic = (c[i + 1] - c[i]) / (3.0 * step)
    linear = ((p[i + 1] - p[i]) / step) - (step / 3.0) * (c[i + 1] + 2.0 * c[i])
    jj = j * j
    value = p[i] + linear * j.astype(np.float64) + c[i] * jj.astype(np.float64) + cubic * (jj * j).astype(np.float64)
    return np.where(j == 0, p[i], value)


def spline_points(points: np.ndarray, closed: bool, scale: float = SPLINE_SCALE) -> np.ndarray | None:
    """The curve OsiriX samples through ``points`` ((N, 2) x, y), or None when it falls back to them.

    Check :func:`spline_size` first: the answer has that many points.
    """
    padded = _padded(points, closed)
    if padded is None:
        return None
    px, py = padded
    nb = len(px)
    h, d = _steps(px, py, scale)
    a, c = np.zeros(nb), np.zeros(nb)
    i = np.arange(2, nb - 1)
    a[i] = 2.0 * h[i - 1] / (h[i] + h[i - 1])
    i = np.arange(1, nb - 2)
    c[i] = 2.0 * h[i] / (h[i] + h[i - 1])
    gam, bet = _pivots(a, c)
    a_list = a.tolist()
    cx = _second_derivatives(px, d, a_list, gam, bet)
    cy = _second_derivatives(py, d, a_list, gam, bet)
    intervals = np.arange(1, nb - 2)
    counts = 1 + np.floor(h[intervals]).astype(np.int64)
    total = int(counts.sum())
    if total == 0:
        return None
    out = np.empty((total, 2))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for first in range(0, total, _CHUNK):
        index = np.arange(first, min(total, first + _CHUNK))
        which = np.searchsorted(starts, index, side="right") - 1
        interval, j = intervals[which], index - starts[which]
        out[index, 0] = _sample(px, cx, h, interval, j)
        out[index, 1] = _sample(py, cy, h, interval, j)
    return out
