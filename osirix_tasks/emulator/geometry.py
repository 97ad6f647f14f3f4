"""ROI geometry and statistics as OsiriX computes them, on numpy arrays.

Coordinates are OsiriX's pixel coordinates: x = column, y = row. Where OsiriX's exact rule is
not documented we decided, and say so:

- a pixel (row r, column c) is inside a polygon when its point (x=c, y=r) is inside it (even-odd
  rule; OsiriX fills with its own rasteriser, whose edge rule the reference does not show);
- statistics follow the reference's definitions (population std, OsiriX's skewness/kurtosis).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["polygon_mask", "roi_statistics"]


def polygon_mask(points: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Boolean (rows, columns) map of the pixels whose point (c, r) is inside the closed polygon.

    Scanline even-odd fill: on row r, the edges crossing y = r are intersected and the pixels
    from each odd crossing up to (not including) the next are inside.
    """
    mask = np.zeros((rows, columns), dtype=bool)
    if len(points) < 3:
        return mask
    xs, ys = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    r0, r1 = max(0, int(math.floor(ys.min()))), min(rows - 1, int(math.ceil(ys.max())))
    if r0 > r1:
        return mask
    x_prev, y_prev = np.roll(xs, 1), np.roll(ys, 1)
    moving = ys != y_prev
    xs, ys, x_prev, y_prev = xs[moving], ys[moving], x_prev[moving], y_prev[moving]
    for row in range(r0, r1 + 1):
        crosses = (ys > row) != (y_prev > row)
        if not crosses.any():
            continue
        x_cur, y_cur, x_p, y_p = xs[crosses], ys[crosses], x_prev[crosses], y_prev[crosses]
        x_at = np.sort((x_p - x_cur) * (row - y_cur) / (y_p - y_cur) + x_cur)
        for start, stop in zip(x_at[0::2], x_at[1::2], strict=False):
            first, last = max(0, math.ceil(start)), min(columns, math.ceil(stop))
            if last > first:
                mask[row, first:last] = True
    return mask


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
