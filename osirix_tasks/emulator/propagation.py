"""``propagateSettings``: what a viewer passes on to the other open viewers (Horos ``ViewerController.m``
``propagateSettings`` and ``propagateSettingsToViewer:``).

Of what OsiriX propagates, the protocol can see two things: the movie frame (to a viewer with as
many frames) and the window level and width. WL/WW goes to a viewer whose displayed plane is
greyscale or RGB alike, whose modality is the same, and when neither is CR and the other is not NM
(OsiriX's "propagate settings" is on, as it is by default and after a fusion of the same study).
A viewer's fused viewer gets the settings too. Zoom, pan and rotation are not part of the protocol.

When a viewer opens (``initWithPix:`` registers it, then ``changeImageData:``), OsiriX ends
``changeImageData:`` by having every *other* displayed viewer, in opening order, propagate its
settings to all the viewers but itself: the new viewer takes the movie frame and WL/WW of the
viewers already open (the last one that applies wins).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .workspace import Viewer

__all__ = ["propagate_settings", "after_data_changed"]


def _to_viewer(source: Viewer, other: Viewer, seen: set[int], changed: list[Viewer]) -> None:
    if id(other) in seen or other.closed:
        return
    seen.add(id(other))
    before = (other.movie_idx, other.wl, other.ww)
    if source.movie_idx != other.movie_idx and len(source.frames) == len(other.frames):
        other.movie_idx = source.movie_idx
    same_kind = source.current_pix().is_rgb == other.current_pix().is_rgb and source.modality == other.modality
    if same_kind and "CR" not in (source.modality, other.modality) and other.modality != "NM":
        other.wl, other.ww = source.wl, source.ww
    if (other.movie_idx, other.wl, other.ww) != before and other not in changed:
        changed.append(other)
    if other.blending is not None and other.blending is not source:
        _to_viewer(source, other.blending, seen, changed)


def propagate_settings(source: Viewer, displayed: list[Viewer]) -> list[Viewer]:
    """Pass ``source``'s frame and WL/WW on to every other displayed viewer that takes them; the
    viewers whose frame or WL/WW changed."""
    seen = {id(source)}
    changed: list[Viewer] = []
    for other in displayed:
        _to_viewer(source, other, seen, changed)
    return changed


def after_data_changed(viewer: Viewer, displayed: list[Viewer]) -> list[Viewer]:
    """The end of ``changeImageData:``: every other displayed viewer propagates its settings; the
    viewers whose frame or WL/WW changed."""
    changed: list[Viewer] = []
    for other in list(displayed):
        if other is not viewer and not other.closed:
            changed += [v for v in propagate_settings(other, displayed) if v not in changed]
    return changed
