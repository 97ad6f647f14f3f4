"""The smoothing spline OsiriX draws and measures polygon ROIs through (Horos ``ROI.m``, ``spline()``).

Open polygon (10), closed polygon (11) and pencil (15) ROIs with at least three points are shown
and measured along a cubic spline through their points, parametrised by the distance between
points. The vertices are padded at both ends with their neighbours across the seam (the last
vertex before the first, the second after the last), a cubic spline is solved for x and for y
with the tridiagonal (Thomas) algorithm, and every interval between two vertices is sampled at
its start and then once per unit of ``scale`` x its length. A closed curve repeats its first
vertex at the end before this. When two consecutive padded points coincide the spline is not
computed and OsiriX uses the raw points.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["spline_points", "SPLINE_SCALE"]

#: The sampling scale OsiriX measures with (``splinePoints`` uses 5; the spline caps it at 5).
SPLINE_SCALE = 5.0


def _second_derivatives(values: np.ndarray, h: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Solve OsiriX's tridiagonal system (diagonal 4) for one coordinate; index 0 is unused."""
    nb = len(values)
    a = np.zeros(nb)
    c = np.zeros(nb)
    g = np.zeros(nb)
    gam = np.zeros(nb)
    out = np.zeros(nb)
    for i in range(2, nb - 1):
        a[i] = 2.0 * h[i - 1] / (h[i] + h[i - 1])
    for i in range(1, nb - 2):
        c[i] = 2.0 * h[i] / (h[i] + h[i - 1])
    for i in range(1, nb - 1):
        left = (values[i - 1] - values[i]) / (d[i - 1] - d[i])
        right = (values[i] - values[i + 1]) / (d[i] - d[i + 1])
        g[i] = 6.0 * (left - right) / (d[i - 1] - d[i + 1])
    pivot = 4.0
    out[1] = g[1] / pivot
    for j in range(2, nb - 1):
        gam[j] = c[j - 1] / pivot
        pivot = 4.0 - a[j] * gam[j]
        out[j] = (g[j] - a[j] * out[j - 1]) / pivot
    for j in range(nb - 2, 0, -1):
        out[j] -= gam[j + 1] * out[j + 1]
    return out


def spline_points(points: np.ndarray, closed: bool, scale: float = SPLINE_SCALE) -> np.ndarray | None:
    """The curve OsiriX samples through ``points`` ((N, 2) x, y), or None when it falls back to them."""
    vertices = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if closed and len(vertices):
        vertices = np.vstack([vertices, vertices[:1]])
    total = len(vertices)
    nb = total + 2
    if total < 2:
        return None
    scale = min(scale, 5.0)
    px = np.empty(nb)
    py = np.empty(nb)
    px[1 : total + 1], py[1 : total + 1] = vertices[:, 0], vertices[:, 1]
    px[0], py[0] = px[nb - 3], py[nb - 3]
    px[nb - 1], py[nb - 1] = px[2], py[2]
    if np.any((px[1:] == px[:-1]) & (py[1:] == py[:-1])):
        return None
    h = np.zeros(nb)
    d = np.zeros(nb)
    for i in range(nb - 1):
        h[i] = math.sqrt((px[i + 1] - px[i]) ** 2 + (py[i + 1] - py[i]) ** 2) * scale
        d[i + 1] = d[i] + h[i]
    cx = _second_derivatives(px, h, d)
    cy = _second_derivatives(py, h, d)
    out: list[tuple[float, float]] = []
    for i in range(1, nb - 2):
        step = h[i]
        dx = (cx[i + 1] - cx[i]) / (3.0 * step)
        dy = (cy[i + 1] - cy[i]) / (3.0 * step)
        bx = (px[i + 1] - px[i]) / step - step / 3.0 * (cx[i + 1] + 2.0 * cx[i])
        by = (py[i + 1] - py[i]) / step - step / 3.0 * (cy[i + 1] + 2.0 * cy[i])
        out.append((px[i], py[i]))
        t = np.arange(1, math.floor(step) + 1, dtype=np.float64)
        xs = px[i] + bx * t + cx[i] * t * t + dx * t * t * t
        ys = py[i] + by * t + cy[i] * t * t + dy * t * t * t
        out.extend(zip(xs.tolist(), ys.tolist(), strict=True))
    return np.asarray(out, dtype=np.float64) if out else None
