"""What changed in the emulator since change number N: the host's answer to :class:`WhatChanged`.

A view of the embedded OsiriX (the page) polls this instead of reading and hashing whole planes: one
cheap request tells which viewers' pixels, ROIs or display and which windows changed. A real OsiriX
has no such counters; a view of one reads it again instead.
"""

from __future__ import annotations

from typing import Any

from ..emulator.state import OsirixState
from ..emulator.workspace import Viewer, VRController
from .control_protocol import Reply, WhatChanged

__all__ = ["what_changed"]


def what_changed(state: OsirixState, request: WhatChanged) -> Reply:
    """The change counters as a reply's data (see :class:`WhatChanged`)."""
    state.notice_other_writers()
    changes = state.changes
    data: dict[str, Any] = {"now": changes.now, **changes.state_versions(), "viewers": {}, "vr": {}}
    data["pixels"] = max((changes.versions(v)["pixels"] for v in state.viewers.displayed()), default=0)
    for obj, _ in changes.changed_since(request.since):
        if getattr(obj, "closed", False):
            continue
        if isinstance(obj, Viewer):
            data["viewers"][state.cache.uid("ViewerController", obj)] = changes.versions(obj)
        elif isinstance(obj, VRController):
            data["vr"][state.cache.uid("VRController", obj)] = changes.versions(obj)
    return Reply(ok=True, message=f"change {data['now']}", data=data)
