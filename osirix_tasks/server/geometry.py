"""ROI geometry and statistics as OsiriX computes them, on numpy arrays.

Coordinates are OsiriX's pixel coordinates: x = column, y = row. Where OsiriX's exact rule is
not documented we decided, and say so:

- a pixel (row r, column c) is inside a closed shape when its point (x=c, y=r) is inside the
  polygon (even-odd rule); a rectangle covers columns [x, x + width) and rows [y, y + height);
- ovals are drawn by OsiriX as polygons; we use 64 vertices around the ellipse;
- statistics follow the reference's definitions (population std, OsiriX's skewness/kurtosis).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "polygon_mask",
    "rectangle_mask",
    "oval_points",
    "polygon_area",
    "roi_statistics",
    "rotate_points",
    "flip_points",
]

OVAL_VERTICES = 64


def polygon_mask(points: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Boolean (rows, columns) map of the pixels whose point (c, r) is inside the closed polygon."""
    mask = np.zeros((rows, columns), dtype=bool)
    if len(points) < 3:
        return mask
    xs, ys = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    r0, r1 = max(0, int(math.floor(ys.min()))), min(rows - 1, int(math.ceil(ys.max())))
    c0, c1 = max(0, int(math.floor(xs.min()))), min(columns - 1, int(math.ceil(xs.max())))
    if r0 > r1 or c0 > c1:
        return mask
    grid_y, grid_x = np.mgrid[r0 : r1 + 1, c0 : c1 + 1].astype(np.float64)
    inside = np.zeros(grid_x.shape, dtype=bool)
    x_prev, y_prev = xs[-1], ys[-1]
    for x_cur, y_cur in zip(xs, ys, strict=True):
        if y_cur != y_prev:
            crosses = (y_cur > grid_y) != (y_prev > grid_y)
            x_at = (x_prev - x_cur) * (grid_y - y_cur) / (y_prev - y_cur) + x_cur
            inside ^= crosses & (grid_x < x_at)
        x_prev, y_prev = x_cur, y_cur
    mask[r0 : r1 + 1, c0 : c1 + 1] = inside
    return mask


def rectangle_mask(x: float, y: float, width: float, height: float, rows: int, columns: int) -> np.ndarray:
    """Pixels with column in [x, x + width) and row in [y, y + height)."""
    mask = np.zeros((rows, columns), dtype=bool)
    c0, c1 = max(0, math.ceil(x)), min(columns, math.ceil(x + width))
    r0, r1 = max(0, math.ceil(y)), min(rows, math.ceil(y + height))
    if c1 > c0 and r1 > r0:
        mask[r0:r1, c0:c1] = True
    return mask


def oval_points(center_x: float, center_y: float, half_width: float, half_height: float) -> np.ndarray:
    """The polygon OsiriX draws for an oval with that centre and those half-axes."""
    angles = np.linspace(0, 2 * np.pi, OVAL_VERTICES, endpoint=False)
    return np.column_stack([center_x + half_width * np.cos(angles), center_y + half_height * np.sin(angles)])


def polygon_area(points: np.ndarray) -> float:
    """Shoelace area in square pixels of a closed polygon."""
    if len(points) < 3:
        return 0.0
    x, y = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def roi_statistics(values: np.ndarray) -> dict[str, float]:
    """OsiriX's ROI statistics of the pixel values inside an ROI.

    With n values, mean m, v_p = sum((x-m)^2)/n and v_s = sum((x-m)^2)/(n-1):
    std_dev = sqrt(v_p); skewness = (sum((x-m)^3)/n) / (v_p sqrt(v_s));
    kurtosis = (sum((x-m)^4)/n) / (v_p v_s) - 3. Undefined moments (n < 2, constant values) are 0.
    """
    data = values.astype(np.float64).ravel()
    n = data.size
    if n == 0:
        return {"mean": 0.0, "total": 0.0, "std_dev": 0.0, "min": 0.0, "max": 0.0, "skewness": 0.0, "kurtosis": 0.0}
    mean = float(data.mean())
    deviation = data - mean
    squares = float(np.dot(deviation, deviation))
    v_p = squares / n
    v_s = squares / (n - 1) if n > 1 else 0.0
    skewness = kurtosis = 0.0
    if v_p > 0 and v_s > 0:
        skewness = float(np.sum(deviation**3) / n / (v_p * math.sqrt(v_s)))
        kurtosis = float(np.sum(deviation**4) / n / (v_p * v_s) - 3)
    return {
        "mean": mean,
        "total": float(data.sum()),
        "std_dev": math.sqrt(v_p),
        "min": float(data.min()),
        "max": float(data.max()),
        "skewness": skewness,
        "kurtosis": kurtosis,
    }


def rotate_points(points: np.ndarray, degrees: float, center_x: float, center_y: float) -> np.ndarray:
    """Rotate about (x, y); positive degrees turn clockwise on screen (rows grow downwards)."""
    theta = math.radians(degrees)
    cos, sin = math.cos(theta), math.sin(theta)
    dx, dy = points[:, 0] - center_x, points[:, 1] - center_y
    return np.column_stack([center_x + dx * cos - dy * sin, center_y + dx * sin + dy * cos])


def flip_points(points: np.ndarray, horizontally: bool) -> np.ndarray:
    """Mirror the vertices about the ROI's centre (mean of the vertices)."""
    flipped = points.astype(np.float64).copy()
    axis = 0 if horizontally else 1
    center = flipped[:, axis].mean()
    flipped[:, axis] = 2 * center - flipped[:, axis]
    return flipped
