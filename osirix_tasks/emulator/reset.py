"""Put a running OsiriX back as it was after loading, without restarting it (the test kit's reset).

What OsiriX holds in memory goes: every 2D viewer and 3D window is closed, their DCMPix, ROIs
and ROI volumes with them, and every uid that pointed at one of those answers ``No <Type> cached``
from then on. The browser selection returns to the one recorded when the host finished loading.
The database is left alone (studies a task imported stay; their uids stay valid), except for the
ROIs saved into it since loading: they are removed with their files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .state import KIND_OF, OsirixState

__all__ = ["Baseline", "ResetSummary", "baseline_of", "reset_state", "IN_MEMORY_KINDS"]

#: The plugin's type names of the objects that live only in memory (not in the database).
IN_MEMORY_KINDS = frozenset(KIND_OF.values())


@dataclass(frozen=True)
class Baseline:
    """What a reset returns to: the browser selection (database row ids) after loading."""

    studies: tuple[int, ...]
    series: tuple[int, ...]
    roi_files: frozenset[str] = frozenset()  # the stored-ROI files then


@dataclass(frozen=True)
class ResetSummary:
    """What a reset closed and forgot."""

    viewers: int
    vr_controllers: int
    rois: int
    forgotten_uids: int

    def to_json(self) -> dict[str, Any]:
        """The counts as plain data."""
        return {
            "viewers": self.viewers,
            "vr_controllers": self.vr_controllers,
            "rois": self.rois,
            "forgotten_uids": self.forgotten_uids,
        }


def baseline_of(state: OsirixState) -> Baseline:
    """The state's current browser selection, to return to later."""
    with state.lock:
        return Baseline(tuple(state.selected_studies), tuple(state.selected_series), state.roi_store.files())


def reset_state(state: OsirixState, baseline: Baseline) -> ResetSummary:
    """Close every viewer and 3D window, forget every in-memory uid, restore the selection."""
    state.roi_store.restore(baseline.roi_files)  # pending saves dropped before the viewers close
    with state.lock, state.viewers.lock:
        entries = [state.cache.lookup(uid) for uid in state.cache.uids()]
        held = [e for e in entries if e is not None and e[0] in IN_MEMORY_KINDS]
        viewers = state.viewers.displayed()
        vr_count = len(state.viewers.displayed_vr())
        roi_count = sum(len(v.all_rois()) for v in viewers)
        for viewer in viewers:
            state.forget(state.viewers.close(viewer))
        # Objects handed out and dropped since (a resampled viewer's original, a deleted ROI ...):
        # nothing may keep a uid into the old session.
        for kind, key in held:
            state.cache.forget(kind, key)
        state.select(baseline.studies, baseline.series)
    state.roi_store.restore(baseline.roi_files)  # outside the state lock: the saver may be waiting for it
    return ResetSummary(len(viewers), vr_count, roi_count, len(held))
