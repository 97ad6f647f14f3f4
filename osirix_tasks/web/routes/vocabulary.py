"""``GET /api/vocabulary``: OsiriX's ROI types for the page (the JS holds no ROI type number).

TEMPORARY (for the lead to reconcile): the ``rooms`` branch adds ``osirix_tasks/vocabulary.py`` and
serves ``vocabulary.as_json()`` here. Until it lands this one function builds the same JSON shape
(``roi_types``: code, name, label, shape, closed, drawable) from the emulator's constants.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ..api import Call, api
from ..context import WebContext

#: Types the page draws with the mouse (the others arrive from tasks and are shown and edited).
_DRAWABLE = {5, 6, 9, 11, 12, 13, 14, 15, 19}
_CLOSED = {6, 9, 11, 15, 20, 24, 31}
_NAMES = {
    5: ("MEASURE", "Length"),
    6: ("RECTANGLE", "Rectangle"),
    9: ("OVAL", "Oval"),
    10: ("OPEN_POLYGON", "Opened Polygon"),
    11: ("CLOSED_POLYGON", "Closed Polygon"),
    12: ("ANGLE", "Angle"),
    13: ("TEXT", "Text"),
    14: ("ARROW", "Arrow"),
    15: ("PENCIL", "Pencil"),
    19: ("POINT", "Point"),
    20: ("BRUSH", "Brush"),
    24: ("LAYER", "Layer"),
    26: ("AXIS", "Axis"),
    27: ("DYNAMIC_ANGLE", "Dynamic Angle"),
    29: ("TAGT", "Perpendicular Lines"),
    31: ("OVAL_ANGLE", "Oval Angle"),
}


def vocabulary_json() -> dict[str, Any]:
    """The vocabulary as ``osirix_tasks.vocabulary.as_json()`` gives it (ROI part)."""
    from ...emulator.roi import ROI_TYPES

    types = []
    for code in sorted(ROI_TYPES):
        name, label = _NAMES.get(code, (f"TYPE_{code}", f"type {code}"))
        types.append(
            {
                "code": code,
                "name": name,
                "osirix_name": ROI_TYPES[code][0],
                "label": label,
                "shape": ROI_TYPES[code][1],
                "closed": code in _CLOSED,
                "drawable": code in _DRAWABLE,
            }
        )
    return {"roi_types": types, "new_roi": {"thickness": 2.0, "opacity": 1.0, "color": [0, 255, 0]}}


def vocabulary(context: WebContext, call: Call) -> dict[str, Any]:
    return vocabulary_json()


routes = [Route("/api/vocabulary", api(vocabulary), methods=["GET"])]
