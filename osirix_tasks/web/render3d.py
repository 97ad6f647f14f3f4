"""The 3D window's picture: maximum intensity projection (MIP) or a compositing volume render (VR).

The camera turns by ``azimuth`` (about the screen's vertical axis) and ``elevation`` (about its
horizontal axis); at azimuth = elevation = 0 it looks along the slice normal, with screen x along
the columns and screen y along the rows. ``zoom`` magnifies about the volume's centre. The volume is
resampled (nearest voxel, in millimetres) onto camera-aligned rays, in two passes (azimuth, then
elevation), ``size`` x ``size`` rays of at most ``MAX_DEPTH`` samples each, a band of screen columns
at a time (memory stays bounded at any size), and projected along the viewing direction: MIP keeps the
largest value of each ray; VR composites front to back with an opacity ramp over the WL/WW window.
Both are windowed, then coloured by a colour table (grey by default; see :data:`PRESETS`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["render", "MAX_SIDE", "MAX_DEPTH", "PRESETS", "colour_table"]

#: The volume is reduced (by integer strides) to at most this many voxels along each axis first.
MAX_SIDE = 128
#: Samples along each ray (the reduced volume has no more detail than this along any axis).
MAX_DEPTH = 192
#: Screen columns resampled at once (bounds the memory of one render).
_BAND = 32
#: VR: opacity of one millimetre of tissue at the top of the window ramp.
OPACITY_PER_MM = 0.08
#: The 3D window's presets, after OsiriX's VR presets: a WL/WW window and a colour table (stops of
#: position in the window 0..1 and red, green, blue 0..1) for the rendered values.
PRESETS: dict[str, tuple[tuple[float, float] | None, tuple[tuple[float, float, float, float], ...]]] = {
    "Grey": (None, ((0.0, 0.0, 0.0, 0.0), (1.0, 1.0, 1.0, 1.0))),
    "VR Bones": ((300.0, 1500.0), ((0.0, 0.55, 0.25, 0.15), (0.4, 0.95, 0.85, 0.7), (1.0, 1.0, 1.0, 0.95))),
    "VR Muscles-Bones": ((150.0, 900.0), ((0.0, 0.5, 0.05, 0.05), (0.45, 0.85, 0.35, 0.3), (1.0, 1.0, 0.97, 0.9))),
    "VR Soft tissue": ((40.0, 400.0), ((0.0, 0.4, 0.1, 0.05), (0.5, 0.9, 0.6, 0.45), (1.0, 1.0, 0.9, 0.8))),
    "VR Red vessels": ((250.0, 600.0), ((0.0, 0.3, 0.0, 0.0), (0.6, 0.9, 0.1, 0.05), (1.0, 1.0, 0.8, 0.7))),
    "VR Lung": ((-600.0, 1500.0), ((0.0, 0.15, 0.2, 0.35), (0.5, 0.6, 0.75, 0.9), (1.0, 1.0, 1.0, 1.0))),
}


def colour_table(stops: Sequence[Sequence[float]], levels: int = 256) -> np.ndarray:
    """A (levels, 3) table from colour stops (position 0..1, red, green, blue), linear between them."""
    at = np.linspace(0.0, 1.0, levels)
    positions = [float(s[0]) for s in stops]
    return np.stack([np.interp(at, positions, [float(s[channel]) for s in stops]) for channel in (1, 2, 3)], axis=1)


def _reduce(volume: np.ndarray, spacing: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    steps = [max(1, math.ceil(n / MAX_SIDE)) for n in volume.shape]
    reduced = np.asarray(volume[:: steps[0], :: steps[1], :: steps[2]], dtype=np.float32)
    padded = np.pad(reduced, 1, constant_values=-np.inf)  # index 0 and n+1: outside the volume
    return padded, np.asarray(spacing, dtype=np.float64) * np.asarray(steps)


def _index(mm: np.ndarray, voxel: float, count: int) -> np.ndarray:
    """Padded voxel index of positions in mm from the volume's corner (0, the padding, when outside)."""
    index = np.floor(mm / voxel).astype(np.int64) + 1
    index[(index < 1) | (index > count)] = 0
    return index


def render(
    volume: np.ndarray,
    spacing: tuple[float, float, float],
    *,
    mode: str,
    wl: float,
    ww: float,
    azimuth: float = 0.0,
    elevation: float = 0.0,
    size: int = 192,
    zoom: float = 1.0,
    colours: np.ndarray | None = None,
) -> np.ndarray:
    """An RGBA image (size, size, 4) of ``volume`` (slices, rows, columns) with voxel ``spacing`` (mm);
    ``colours`` is a (256, 3) table (:func:`colour_table`) for the windowed values (grey when None)."""
    data, voxel = _reduce(volume, spacing)
    counts = np.asarray(data.shape) - 2
    extent = counts * voxel
    centre = extent / 2.0
    radius = float(np.linalg.norm(extent)) / 2.0
    pixel = 2.0 * radius / size / max(zoom, 1e-6)
    depth = min(size, MAX_DEPTH)
    step = 2.0 * radius / depth  # mm between samples along a ray
    screen = (np.arange(size) - size / 2.0 + 0.5) * pixel  # mm from the centre, screen x (u) and y (v)
    along = (np.arange(depth) - depth / 2.0 + 0.5) * step  # mm from the centre, along the ray (w)
    a, e = math.radians(azimuth), math.radians(elevation)
    # Pass 2's sampling of pass 1 (the same for every band): each (v, w) of the final camera reads (row, w').
    v, w = np.meshgrid(screen, along, indexing="ij")
    r_idx = _index(centre[1] + v * math.cos(e) - w * math.sin(e), voxel[1], counts[1])
    turned_w = v * math.sin(e) + w * math.cos(e)
    w_idx = np.clip(np.rint(turned_w / step + depth / 2.0 - 0.5).astype(np.int64), 0, depth - 1)
    outside = (r_idx == 0) | (np.abs(turned_w) > radius)
    table = colours if colours is not None else colour_table(PRESETS["Grey"][1])
    low, width = wl - ww / 2.0, max(float(ww), 1e-6)
    image = np.empty((size, size, 4), dtype=np.uint8)
    image[..., 3] = 255
    by_row = data.transpose(1, 0, 2)
    for start in range(0, size, _BAND):
        u = screen[start : start + _BAND]
        # Pass 1, azimuth: for each (u, w') of the turned (slice, column) plane, the voxel it samples.
        uu, ww_ = np.meshgrid(u, along, indexing="ij")
        s_idx = _index(centre[0] + uu * math.sin(a) + ww_ * math.cos(a), voxel[0], counts[0])
        c_idx = _index(centre[2] + uu * math.cos(a) - ww_ * math.sin(a), voxel[2], counts[2])
        turned = by_row[:, s_idx, c_idx]  # (rows + 2, band, depth)
        rays = turned[r_idx[:, None, :], np.arange(len(u))[None, :, None], w_idx[:, None, :]]  # (v, band, w)
        rays[np.broadcast_to(outside[:, None, :], rays.shape)] = -np.inf
        image[:, start : start + len(u), :3] = _project(rays, mode, low, width, step, table)
    return image


def _project(rays: np.ndarray, mode: str, low: float, width: float, step: float, table: np.ndarray) -> np.ndarray:
    """The colours (v, band, 3) of rays of samples (v, band, w), windowed by ``low`` and ``width``."""
    levels = len(table) - 1
    if mode == "MIP":
        best = rays.max(axis=2)
        grey = np.where(np.isfinite(best), np.clip((best - low) / width, 0.0, 1.0), 0.0)
        rgb = table[np.rint(grey * levels).astype(np.int64)] * (grey > 0)[..., None]
    else:
        ramp = np.clip((rays - np.float32(low)) / np.float32(width), 0.0, 1.0)
        alpha = ramp * np.float32(1.0 - (1.0 - OPACITY_PER_MM) ** step)
        # front to back: what each sample adds is its value x alpha x the light that reached it
        through = np.cumprod(1.0 - alpha, axis=2)
        reached = np.concatenate([np.ones_like(through[..., :1]), through[..., :-1]], axis=2)
        seen = (reached * alpha * ramp).sum(axis=2)
        total = 1.0 - through[..., -1]
        # the composited value picks the colour; how opaque the ray became, how bright it shows
        value = np.clip(seen / np.maximum(total, 1e-6), 0.0, 1.0)
        rgb = table[np.rint(value * levels).astype(np.int64)] * np.clip(total * 1.5, 0, 1)[..., None]
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
