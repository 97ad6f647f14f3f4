"""Image task: Gaussian smoothing of the displayed slice, written back into the viewer."""

from __future__ import annotations

import numpy as np

from ..decorators import osirix_task
from ..run.context import TaskContext


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


@osirix_task(type="Image", name="Gaussian smooth")
def smooth(context: TaskContext) -> None:
    """Smooth the displayed slice with a Gaussian (sigma in pixels: first argument, default 1.5)."""
    sigma = float(context.args[0]) if context.args else 1.5
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma}")
    connection = context.connection
    image = connection.pixels(context.pix)
    if image.ndim == 3:
        raise ValueError("the displayed image is RGB; Gaussian smooth works on greyscale images")
    smoothed = gaussian_smooth(image, sigma)
    connection.set_pixels(context.pix, smoothed)
    connection.call("ViewerControllerNeedsDisplayUpdate", context.viewer)
    rows, columns = image.shape
    print(f"Smoothed a {rows}x{columns} slice with sigma {sigma:g} px: std {image.std():.3f} -> {smoothed.std():.3f}")
