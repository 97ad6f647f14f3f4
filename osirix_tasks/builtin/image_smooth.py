"""Image task: Gaussian smoothing of the displayed slice, written back into the viewer."""

from __future__ import annotations

import numpy as np
from osirixgrpc import dcmpix_pb2

from ..client import check
from ..context import TaskContext
from ..decorators import osirix_task


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
    stub = context.stub
    response = check(stub.DCMPixImage(context.pix), "DCMPixImage")
    if response.is_argb:
        raise ValueError("the displayed image is RGB; Gaussian smooth works on greyscale images")
    image = np.asarray(response.image_data_float, dtype=np.float32).reshape(
        response.rows, response.columns
    )
    smoothed = gaussian_smooth(image, sigma)
    request = dcmpix_pb2.DCMPixSetImageRequest(pix=context.pix)
    request.image_data_float.extend(smoothed.ravel().tolist())
    check(stub.DCMPixSetImage(request), "DCMPixSetImage")
    check(stub.ViewerControllerNeedsDisplayUpdate(context.viewer), "ViewerControllerNeedsDisplayUpdate")
    print(
        f"Smoothed a {response.rows}x{response.columns} slice with sigma {sigma:g} px: "
        f"std {image.std():.3f} -> {smoothed.std():.3f}"
    )
