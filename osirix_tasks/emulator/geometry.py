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

__all__ = ["polygon_mask", "fill_crossings", "roi_statistics"]


def _edges(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The closed outline's edges (previous point -> point) that are not horizontal."""
    xs, ys = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    x_prev, y_prev = np.roll(xs, 1), np.roll(ys, 1)
    moving = ys != y_prev
    return xs[moving], ys[moving], x_prev[moving], y_prev[moving]


def _row_spans(ys: np.ndarray, y_prev: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """For each edge, the first and last row r of the plane with ``(y > r) != (y_prev > r)``."""
    low, high = np.minimum(ys, y_prev), np.maximum(ys, y_prev)
    first = np.maximum(np.ceil(low), 0)
    last = np.minimum(np.ceil(high) - 1, rows - 1)
    return first, last


def fill_crossings(points: np.ndarray, rows: int) -> float:
    """How many (row, edge) crossings :func:`polygon_mask` computes for ``points`` on ``rows`` rows."""
    if len(points) < 3:
        return 0.0
    _, ys, _, y_prev = _edges(points)
    first, last = _row_spans(ys, y_prev, rows)
    return float(np.sum(np.maximum(last - first + 1, 0)))


def polygon_mask(points: np.ndarray, rows: int, columns: int) -> np.ndarray:
    """Boolean (rows, columns) map of the pixels whose point (c, r) is inside the closed polygon.

    Scanline even-odd fill: on row r, the edges crossing y = r are intersected and the pixels
    from each odd crossing up to (not including) the next are inside. The crossings of every row
    are computed at once (one per edge and row it spans within the plane: see
    :func:`fill_crossings`), so the work follows the outline within the plane, not its extent.
    """
    mask = np.zeros((rows, columns), dtype=bool)
    if len(points) < 3 or rows == 0 or columns == 0:
        return mask
    xs, ys, x_prev, y_prev = _edges(points)
    first, last = _row_spans(ys, y_prev, rows)
    spans = np.maximum(last - first + 1, 0).astype(np.int64)
    if not spans.sum():
        return mask
    edge = np.repeat(np.arange(len(xs), dtype=np.int32), spans)
    offset = np.repeat((np.cumsum(spans) - spans - first.astype(np.int64)).astype(np.int64), spans)
    row = (np.arange(len(edge), dtype=np.int64) - offset).astype(np.int32)
    del offset
    x_at = (x_prev[edge] - xs[edge]) * (row - ys[edge]) / (y_prev[edge] - ys[edge]) + xs[edge]
    del edge
    order = np.argsort(x_at)
    by_row = row[order].astype(np.uint16) if rows <= 65536 else row[order]
    order = order[np.argsort(by_row, kind="stable")]  # rows, then x within a row (radix sort)
    row, x_at = row[order], x_at[order]
    del order, by_row
    pair_rows = row[0::2].astype(np.int64)
    first_column = np.clip(np.ceil(x_at[0::2]), 0, columns).astype(np.int64)
    last_column = np.clip(np.ceil(x_at[1::2]), 0, columns).astype(np.int64)
    filled = last_column > first_column  # the spans left are disjoint: no column starts or ends two
    width = columns + 1
    counts = np.zeros(rows * width, dtype=np.int8)
    counts[pair_rows[filled] * width + first_column[filled]] += 1
    counts[pair_rows[filled] * width + last_column[filled]] -= 1
    return np.cumsum(counts.reshape(rows, width), axis=1, dtype=np.int8)[:, :columns] > 0


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
