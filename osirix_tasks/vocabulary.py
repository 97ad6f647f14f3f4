"""OsiriX's enumerations, written once: ROI types and the 3D windows' rendering modes.

The emulator builds ROIs from this table, the client names them, and the page draws them: it reads
the same table as JSON (``GET /api/vocabulary``, :func:`as_json`). No ROI type number is written
anywhere else in the Python code.

Where each fact comes from (``reference/``): the codes are OsiriX's ``ToolMode`` numbers (the
plugin's ``itype``); ``osirix_name`` is the ``ToolMode`` constant; ``label`` is what OsiriX's ROI
toolbar calls the tool (Horos ``ViewerController.m`` ``-imageForROI:``); ``shape`` is how
``ViewerControllerNewROI`` builds the ROI (``gRPCViewerControllerDelegate.mm``: from points, from a
rectangle, or from a buffer); ``closed`` types enclose an area (OsiriX computes an area and the
statistics inside them); ``drawable`` types are the ones the page draws with the mouse.

Task types live in :class:`osirix_tasks.model.TaskType` (served with the rest, not written twice).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "RoiCode",
    "RoiType",
    "ROI_TYPES",
    "ROI_KINDS",
    "RoiShape",
    "RENDERING_MODES",
    "NEW_ROI_THICKNESS",
    "NEW_ROI_OPACITY",
    "DEFAULT_ROI_COLOR",
    "roi_type",
    "roi_label",
    "codes_where",
    "as_json",
]

#: How ``ViewerControllerNewROI`` builds an ROI of a type: ``points``, ``rectangle`` (origin and size) or
#: ``buffer`` (a boolean mask placed at an integer position).
RoiShape = Literal["points", "rectangle", "buffer"]


class RoiCode(enum.IntEnum):
    """OsiriX's ROI tool numbers (``ToolMode``), named after its constants without the ``t``."""

    MEASURE = 5  # tMesure: a line
    RECTANGLE = 6  # tROI
    OVAL = 9  # tOval
    OPEN_POLYGON = 10  # tOPolygon
    CLOSED_POLYGON = 11  # tCPolygon
    ANGLE = 12  # tAngle
    TEXT = 13  # tText
    ARROW = 14  # tArrow
    PENCIL = 15  # tPencil: closed freehand
    POINT = 19  # t2DPoint
    BRUSH = 20  # tPlain: a mask
    LAYER = 24  # tLayerROI
    AXIS = 26  # tAxis
    DYNAMIC_ANGLE = 27  # tDynAngle
    TAGT = 29  # tTAGT: two perpendicular lines
    OVAL_ANGLE = 31  # tOvalAngle


@dataclass(frozen=True)
class RoiType:
    """One ROI type as OsiriX knows it (see the module docstring for where each field comes from)."""

    code: RoiCode
    osirix_name: str
    label: str
    shape: RoiShape
    closed: bool
    drawable: bool

    def to_json(self) -> dict[str, Any]:
        """Plain data for the page."""
        return {
            "code": int(self.code),
            "name": self.code.name,
            "osirix_name": self.osirix_name,
            "label": self.label,
            "shape": self.shape,
            "closed": self.closed,
            "drawable": self.drawable,
        }


def _t(code: RoiCode, osirix_name: str, label: str, shape: RoiShape, *, closed: bool, drawable: bool) -> RoiType:
    return RoiType(code, osirix_name, label, shape, closed, drawable)


_C = RoiCode
#: Every ROI type OsiriX creates through the protocol, by code.
ROI_TYPES: dict[RoiCode, RoiType] = {
    t.code: t
    for t in (
        _t(_C.MEASURE, "tMesure", "Length", "points", closed=False, drawable=True),
        _t(_C.RECTANGLE, "tROI", "Rectangle", "rectangle", closed=True, drawable=True),
        _t(_C.OVAL, "tOval", "Oval", "rectangle", closed=True, drawable=True),
        _t(_C.OPEN_POLYGON, "tOPolygon", "Opened Polygon", "points", closed=False, drawable=False),
        _t(_C.CLOSED_POLYGON, "tCPolygon", "Closed Polygon", "points", closed=True, drawable=True),
        _t(_C.ANGLE, "tAngle", "Angle", "points", closed=False, drawable=True),
        _t(_C.TEXT, "tText", "Text", "rectangle", closed=False, drawable=True),
        _t(_C.ARROW, "tArrow", "Arrow", "points", closed=False, drawable=True),
        _t(_C.PENCIL, "tPencil", "Pencil", "points", closed=True, drawable=True),
        _t(_C.POINT, "t2DPoint", "Point", "rectangle", closed=False, drawable=True),
        _t(_C.BRUSH, "tPlain", "Brush", "buffer", closed=True, drawable=False),
        _t(_C.LAYER, "tLayerROI", "Layer", "points", closed=True, drawable=False),
        _t(_C.AXIS, "tAxis", "Axis", "points", closed=False, drawable=False),
        _t(_C.DYNAMIC_ANGLE, "tDynAngle", "Dynamic Angle", "points", closed=False, drawable=False),
        _t(_C.TAGT, "tTAGT", "Perpendicular Lines", "points", closed=False, drawable=False),
        _t(_C.OVAL_ANGLE, "tOvalAngle", "Oval Angle", "rectangle", closed=True, drawable=False),
    )
}

#: The words ``osirix-tasks roi add --type`` and the test kit's ``draw_roi`` take, and the type of each.
ROI_KINDS: dict[str, RoiCode] = {
    "oval": _C.OVAL,
    "rectangle": _C.RECTANGLE,
    "polygon": _C.CLOSED_POLYGON,
    "point": _C.POINT,
    "mask": _C.BRUSH,
}

#: The 3D windows a 2D viewer opens (``ViewerControllerOpenVRViewerForMode``, ``VRControllerSetRenderingMode``).
RENDERING_MODES: tuple[str, ...] = ("VR", "MIP")

#: What our tools (CLI, test kit, page) send for a new ROI. The plugin takes every request field as given,
#: so an unset colour is black (invisible on most images) and an unset opacity 0: our tools always send
#: these. Thickness 2 is what Horos ``ROI.m`` gives a new ROI; opaque, in a green visible on grey images.
NEW_ROI_THICKNESS = 2.0
NEW_ROI_OPACITY = 1.0
DEFAULT_ROI_COLOR = (0, 255, 0)


def roi_type(code: int) -> RoiType | None:
    """The ROI type of an ``itype`` (None for a number OsiriX does not create)."""
    try:
        return ROI_TYPES[RoiCode(code)]
    except ValueError:
        return None


def roi_label(code: int) -> str:
    """What OsiriX calls an ROI type (``type N`` for an unknown number)."""
    found = roi_type(code)
    return found.label if found is not None else f"type {code}"


def codes_where(
    *, shape: RoiShape | None = None, closed: bool | None = None, drawable: bool | None = None
) -> frozenset[RoiCode]:
    """The ROI codes whose fields match every given value."""
    return frozenset(
        t.code
        for t in ROI_TYPES.values()
        if (shape is None or t.shape == shape)
        and (closed is None or t.closed == closed)
        and (drawable is None or t.drawable == drawable)
    )


def as_json() -> dict[str, Any]:
    """The whole vocabulary for the page (``GET /api/vocabulary``)."""
    from .model import TaskType  # pydantic: only when the page asks (the CLI's lean paths import this module)

    return {
        "roi_types": [t.to_json() for t in ROI_TYPES.values()],
        "roi_kinds": {word: int(code) for word, code in ROI_KINDS.items()},
        "rendering_modes": list(RENDERING_MODES),
        "task_types": [t.value for t in TaskType],
        "new_roi": {"thickness": NEW_ROI_THICKNESS, "opacity": NEW_ROI_OPACITY, "color": list(DEFAULT_ROI_COLOR)},
    }
