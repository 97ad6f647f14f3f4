"""The 3D window's picture: maximum intensity projection (MIP) or a compositing volume render (VR).

The camera turns by ``azimuth`` (about the screen's vertical axis) and ``elevation`` (about its
horizontal axis); at azimuth = elevation = 0 it looks along the slice normal, with screen x along
the columns and screen y along the rows. The volume is resampled (nearest voxel, in millimetres)
onto a cube of ``size`` samples a side aligned with the camera, in two passes (azimuth, then
elevation), and projected along the viewing direction: MIP keeps the largest value of each ray;
VR composites front to back with an opacity ramp over the WL/WW window. Both are windowed to 8 bits.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["render", "MAX_SIDE"]

#: The volume is reduced (by integer strides) to at most this many voxels along each axis first.
MAX_SIDE = 128
#: VR: opacity of one millimetre of tissue at the top of the window ramp.
OPACITY_PER_MM = 0.08


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
) -> np.ndarray:
    """An RGBA image (size, size, 4) of ``volume`` (slices, rows, columns) with voxel ``spacing`` (mm)."""
    data, voxel = _reduce(volume, spacing)
    counts = np.asarray(data.shape) - 2
    extent = counts * voxel
    centre = extent / 2.0
    radius = float(np.linalg.norm(extent)) / 2.0
    pixel = 2.0 * radius / size
    axis = (np.arange(size) - size / 2.0 + 0.5) * pixel  # mm from the centre, for u, v and w
    a, e = math.radians(azimuth), math.radians(elevation)
    # Pass 1, azimuth: for each (u, w) of the turned (slice, column) plane, the voxel it samples.
    u, w = np.meshgrid(axis, axis, indexing="ij")
    s_idx = _index(centre[0] + u * math.sin(a) + w * math.cos(a), voxel[0], counts[0])
    c_idx = _index(centre[2] + u * math.cos(a) - w * math.sin(a), voxel[2], counts[2])
    turned = data.transpose(1, 0, 2)[:, s_idx, c_idx]  # (rows + 2, u, w)
    # Pass 2, elevation: each (v, w) of the final camera samples (row, w') of the first pass.
    v, w = np.meshgrid(axis, axis, indexing="ij")
    r_idx = _index(centre[1] + v * math.cos(e) - w * math.sin(e), voxel[1], counts[1])
    w_idx = np.clip(
        np.rint((v * math.sin(e) + w * math.cos(e)) / pixel + size / 2.0 - 0.5).astype(np.int64), 0, size - 1
    )
    outside = (r_idx == 0) | (np.abs(v * math.sin(e) + w * math.cos(e)) > radius)
    rays = turned[r_idx[:, None, :], np.arange(size)[None, :, None], w_idx[:, None, :]]  # (v, u, w)
    rays[np.broadcast_to(outside[:, None, :], rays.shape)] = -np.inf
    low, width = wl - ww / 2.0, max(float(ww), 1e-6)
    if mode == "MIP":
        best = rays.max(axis=2)
        grey = np.where(np.isfinite(best), np.clip((best - low) / width, 0.0, 1.0), 0.0)
        rgb = np.repeat(grey[..., None], 3, axis=2)
    else:
        ramp = np.clip((rays - low) / width, 0.0, 1.0)
        alpha = ramp * (1.0 - (1.0 - OPACITY_PER_MM) ** pixel)
        # front to back: what each sample adds is its colour x alpha x the light that reached it
        through = np.cumprod(1.0 - alpha, axis=2)
        reached = np.concatenate([np.ones_like(through[..., :1]), through[..., :-1]], axis=2)
        colour = (reached * alpha * ramp).sum(axis=2)
        total = 1.0 - through[..., -1]
        shade = np.array([1.0, 0.92, 0.82])  # a warm tint, as OsiriX's default VR colours
        brightness = np.clip(colour / np.maximum(total, 1e-6), 0, 1) * np.clip(total * 1.5, 0, 1)
        rgb = brightness[..., None] * shade
    image = np.empty((size, size, 4), dtype=np.uint8)
    image[..., :3] = np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
    image[..., 3] = 255
    return image
