"""Selecting ROIs by name, as a user does in OsiriX (a click; the protocol has no call for it).

OsiriX selects ROIs on the displayed slice only: ``selectedROIs`` and ``selectROI:deselectingOther:``
(Horos ``ViewerController.m``) read and write the ROIs of ``roiList[curMovieIndex][curImage]``, and an
ROI on another slice is reached by showing its slice first, as the ROI manager does. So: with a slice
given, that slice is shown and its ROIs of the name are selected; without, the displayed slice's
are, or else the first slice holding the name (of the displayed frame) is shown and its ROIs
selected. Every other ROI of the viewer is deselected. The answer says which slice is shown and
which ROIs of the name, elsewhere, are not selected.

``slice`` is the protocol's index (from 0, as ``ViewerControllerSetIdx``); what the answers say names
images as OsiriX shows them, from 1 (``image 1`` is index 0), as the whole CLI does.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import OsirixError
from .workspace import Viewer

__all__ = ["RoiSelection", "select_rois_named"]


@dataclass(frozen=True)
class RoiSelection:
    """What ``select_rois_named`` did."""

    name: str
    slice: int
    slices: int
    count: int
    moved: bool
    elsewhere: tuple[int, ...]

    def message(self) -> str:
        """One line: the image shown, what was selected, what was not (images numbered from 1)."""
        shown = f"showing image {self.slice + 1} of {self.slices}, where it is; " if self.moved else ""
        text = f"{shown}selected {self.count} ROI(s) named {self.name!r} on image {self.slice + 1}"
        if self.elsewhere:
            where = _images_text(self.elsewhere)
            text += f"; those on {where} are not selected (OsiriX selects on the displayed image only)"
        return text


def _images_text(slices: tuple[int, ...] | list[int]) -> str:
    """Slice indexes as OsiriX numbers its images (from 1): ``image 4`` / ``images 4, 9``."""
    return ("image " if len(slices) == 1 else "images ") + ", ".join(str(s + 1) for s in slices)


def _slices_with(viewer: Viewer, name: str) -> list[int]:
    planes = viewer.rois[viewer.movie_idx]
    return [index for index, plane in enumerate(planes) if any(roi.name == name for roi in plane)]


def _refusal(viewer: Viewer, name: str, where: str, found: list[int]) -> OsirixError:
    if found:
        there = f"it is on {_images_text(found)}"
    else:
        names = sorted({roi.name for roi in viewer.all_rois(viewer.movie_idx)})
        there = f"its ROIs: {', '.join(repr(n) for n in names)}" if names else "it has no ROIs"
    return OsirixError(f"no ROI named {name!r} {where} ({there}); the selection is unchanged")


def select_rois_named(viewer: Viewer, name: str, slice: int | None = None) -> RoiSelection:
    """Select ``viewer``'s ROIs named ``name`` on ``slice`` (an index from 0; shown first) or as the module says.

    Raises OsirixError (nothing changed) when the slice is out of range or holds no such ROI.
    """
    found = _slices_with(viewer, name)
    if slice is not None and not 0 <= slice < viewer.slices:
        raise OsirixError(f"image {slice + 1} is out of range: the viewer has images 1-{viewer.slices}")
    if slice is not None and slice not in found:
        raise _refusal(viewer, name, f"on image {slice + 1}", found)
    if slice is None and not found:
        raise _refusal(viewer, name, "in the frontmost viewer", found)
    target = slice if slice is not None else (viewer.idx if viewer.idx in found else found[0])
    moved = target != viewer.idx
    viewer.idx = target
    chosen = [roi for roi in viewer.rois[viewer.movie_idx][target] if roi.name == name]
    for roi in viewer.all_rois():
        roi.selected = False
    for roi in chosen:
        roi.selected = True
    elsewhere = tuple(s for s in found if s != target)
    return RoiSelection(name, target, viewer.slices, len(chosen), moved, elsewhere)
