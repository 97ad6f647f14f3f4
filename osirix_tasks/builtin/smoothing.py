"""Separable Gaussian smoothing in numpy (the Image task's arithmetic, apart from the task so that
listing tasks does not import numpy)."""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian_kernel", "gaussian_smooth"]


def gaussian_kernel(sigma: float) -> np.ndarray:
    """A normalised 1D Gaussian kernel of radius 3 sigma."""
    radius = max(1, int(round(3 * sigma)))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-(x**2) / (2 * sigma**2))
    return kernel / kernel.sum()


def gaussian_smooth(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur of a 2D image, edges extended (float32 out)."""
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    padded = np.pad(image.astype(np.float64), radius, mode="edge")
    rows = sum(k * padded[:, i : i + image.shape[1]] for i, k in enumerate(kernel))
    out = sum(k * rows[i : i + image.shape[0], :] for i, k in enumerate(kernel))
    return np.asarray(out, dtype=np.float32)
