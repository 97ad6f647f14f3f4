"""Brush ROI textures and full-plane masks, both ways."""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["plane_mask", "texture_from_mask", "Textured"]


class Textured(Protocol):
    """A brush ROI: a live one of the emulator or a record (:class:`.records.RoiRecord`)."""

    texture: np.ndarray | None
    texture_origin: tuple[int, int]


def plane_mask(record: Textured, rows: int, columns: int) -> np.ndarray:
    """The (rows, columns) mask of a brush ROI's texture placed at its origin (x, y), clipped to the
    plane; empty without a texture."""
    out = np.zeros((rows, columns), dtype=bool)
    if record.texture is None:
        return out
    left, top = record.texture_origin
    height, width = record.texture.shape
    r0, c0 = max(0, top), max(0, left)
    r1, c1 = min(rows, top + height), min(columns, left + width)
    if r1 > r0 and c1 > c0:
        out[r0:r1, c0:c1] = record.texture[r0 - top : r1 - top, c0 - left : c1 - left]
    return out


def texture_from_mask(
    mask: np.ndarray, origin: tuple[int, int] | None = None, shape: tuple[int, int] | None = None
) -> tuple[np.ndarray, tuple[int, int]] | None:
    """A texture and its origin (x, y) from a full-plane mask: the box ``origin`` + ``shape`` when
    known (the texture as it was stored), else the mask's bounding box; None for an empty mask."""
    mask = np.asarray(mask, dtype=bool)
    if origin is None or shape is None:
        rows, columns = np.nonzero(mask)
        if rows.size == 0:
            return None
        top, left = int(rows.min()), int(columns.min())
        return mask[top : int(rows.max()) + 1, left : int(columns.max()) + 1].copy(), (left, top)
    left, top = origin
    height, width = shape
    texture = np.zeros((height, width), dtype=bool)
    r0, c0 = max(0, top), max(0, left)
    r1, c1 = min(mask.shape[0], top + height), min(mask.shape[1], left + width)
    if r1 > r0 and c1 > c0:
        texture[r0 - top : r1 - top, c0 - left : c1 - left] = mask[r0:r1, c0:c1]
    return texture, (left, top)
