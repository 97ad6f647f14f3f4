"""A DCMPix: one image plane of a viewer, its pixels (greyscale float32 or ARGB) and geometry."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Pix"]


@dataclass(eq=False)
class Pix:
    """A DCMPix: one image plane of a viewer, greyscale float32 or ARGB."""

    data: np.ndarray
    spacing: tuple[float, float]
    origin: tuple[float, float, float]
    orientation: tuple[float, ...]
    slice_location: float
    source_file: str
    image_id: int | None
    series_id: int | None
    study_id: int | None
    window: tuple[float, float] | None = None
    slice_thickness: float = 0.0
    #: OsiriX's ``generated``: a plane made in memory (a viewer copy, a resampled viewer), not read from
    #: the database; its ROIs are neither loaded nor saved.
    generated: bool = False

    @property
    def is_rgb(self) -> bool:
        """True when the pixels are ARGB (rows, columns, 4)."""
        return self.data.ndim == 3

    @property
    def pixel_ratio(self) -> float:
        """``pixelRatio``: row spacing / column spacing (1 when the column spacing is 0)."""
        return self.spacing[0] / self.spacing[1] if self.spacing[1] else 1.0

    @property
    def rows(self) -> int:
        """Rows of the plane (its height in pixels)."""
        return int(self.data.shape[0])

    @property
    def columns(self) -> int:
        """Columns of the plane (its width in pixels)."""
        return int(self.data.shape[1])

    def copy(self) -> Pix:
        """An independent copy (for duplicated and resampled viewers)."""
        return Pix(
            self.data.copy(),
            self.spacing,
            self.origin,
            self.orientation,
            self.slice_location,
            self.source_file,
            self.image_id,
            self.series_id,
            self.study_id,
            self.window,
            self.slice_thickness,
            generated=True,
        )

    def greyscale(self) -> np.ndarray:
        """The float32 values (a greyscale view of ARGB data: the mean of R, G, B)."""
        if self.is_rgb:
            return np.asarray(self.data[..., 1:4].mean(axis=2), dtype=np.float32)
        return self.data
