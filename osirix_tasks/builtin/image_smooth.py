"""Image task: Gaussian smoothing of the displayed slice, written back into the viewer."""

from __future__ import annotations

from ..context import TaskContext
from ..decorators import osirix_task


@osirix_task(type="Image", name="Gaussian smooth")
def smooth(context: TaskContext) -> None:
    """Smooth the displayed slice with a Gaussian (sigma in pixels: first argument, default 1.5)."""
    from .smoothing import gaussian_smooth

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
