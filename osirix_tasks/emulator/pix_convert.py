"""Greyscale <-> ARGB conversions of a DCMPix, as the plugin asks OsiriX for them.

``DCMPixConvertToRGB`` (``gRPCDCMPixDelegate.mm``) windows the plane over its own value range
(level = (min + max) / 2, width = max - min, both truncated to integers; the running maximum starts
at the smallest positive float) and calls ``-ConvertToRGB:::`` (Horos ``DCMPix.m``): the window
[level - width/2, level + width/2] (integer halves) maps to 0-255, the value goes to the chosen
channel (0 red, 1 green, 2 blue, others 0) or to all of A, R, G, B (3), and the alpha byte then
becomes (R + G + B) / 3 in integers. ``-ConvertToBW:`` takes one channel (0-2) or the mean of R, G
and B (3) as floats.
"""

from __future__ import annotations

import numpy as np

__all__ = ["plugin_window", "to_rgb", "to_bw"]

FLT_MIN = float(np.finfo(np.float32).tiny)


def _c_div(a: int, b: int) -> int:
    """C integer division (truncates toward zero)."""
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def plugin_window(values: np.ndarray) -> tuple[int, int]:
    """The (level, width) the plugin passes to ``ConvertToRGB``, as C longs."""
    low = min(float(np.finfo(np.float32).max), float(values.min()))
    high = max(FLT_MIN, float(values.max()))
    level = float(np.float32((np.float32(low) + np.float32(high)) / np.float32(2)))
    width = float(np.float32(np.float32(high) - np.float32(low)))
    return int(level), int(width)


def to_rgb(values: np.ndarray, channel: int) -> np.ndarray:
    """ARGB bytes (rows, columns, 4) of a greyscale plane, channel 0-3."""
    level, width = plugin_window(values)
    low, high = level - _c_div(width, 2), level + _c_div(width, 2)
    data = values.astype(np.float64)
    if high > low:
        scaled = np.floor((np.clip(data, low, high) - low) * 255.0 / (high - low) + 0.5)
    else:
        scaled = np.where(data > high, 255.0, 0.0)
    byte = scaled.astype(np.uint8)
    argb = np.zeros((*values.shape, 4), dtype=np.uint8)
    if channel == 3:
        argb[...] = byte[..., None]
    else:
        argb[..., 1 + channel] = byte
    argb[..., 0] = (argb[..., 1:4].astype(np.int32).sum(axis=2) // 3).astype(np.uint8)
    return argb


def to_bw(argb: np.ndarray, channel: int) -> np.ndarray:
    """Float32 greyscale of an ARGB plane from channel 0-2 (R, G, B) or 3 (their mean)."""
    rgb = argb[..., 1:4].astype(np.float32)
    grey = rgb.sum(axis=2, dtype=np.float64) / 3.0 if channel == 3 else rgb[..., channel]
    return np.ascontiguousarray(grey, dtype=np.float32)
