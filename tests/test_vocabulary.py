"""OsiriX's enumerations are written once (``vocabulary.py``), and say what the reference says."""

from __future__ import annotations

import ast
from pathlib import Path

from osirix_tasks import vocabulary
from osirix_tasks.vocabulary import ROI_TYPES, RoiCode

PACKAGE = Path(vocabulary.__file__).parent

#: From reference/osirixgrpc-api.md section 7 ("Type codes ... Creation by kind"), transcribed.
REFERENCE_SHAPES = {
    5: "points",  # measure (line)
    6: "rectangle",  # rectangle (tROI)
    9: "rectangle",  # oval
    10: "points",  # open polygon
    11: "points",  # closed polygon
    12: "points",  # angle
    13: "rectangle",  # text
    14: "points",  # arrow
    15: "points",  # pencil
    19: "rectangle",  # 2D point
    20: "buffer",  # mask/brush (tPlain)
    24: "points",  # layer
    26: "points",  # axis
    27: "points",  # dynamic angle
    29: "points",  # tTAGT
    31: "rectangle",  # oval angle
}
#: What OsiriX's ROI toolbar calls the tools (Horos ViewerController.m -imageForROI:).
TOOLBAR_NAMES = {
    5: "Length",
    6: "Rectangle",
    9: "Oval",
    10: "Opened Polygon",
    11: "Closed Polygon",
    12: "Angle",
    13: "Text",
    14: "Arrow",
    15: "Pencil",
    19: "Point",
    20: "Brush",
    26: "Axis",
}


def test_codes_and_shapes_are_the_references() -> None:
    assert {int(code): t.shape for code, t in ROI_TYPES.items()} == REFERENCE_SHAPES


def test_labels_are_what_osirix_calls_the_tools() -> None:
    for code, name in TOOLBAR_NAMES.items():
        assert vocabulary.roi_label(code) == name
    assert vocabulary.roi_label(7) == "type 7"


def test_the_json_the_page_reads_holds_every_type_and_flag() -> None:
    data = vocabulary.as_json()
    assert [t["code"] for t in data["roi_types"]] == [int(c) for c in ROI_TYPES]
    assert {t["name"] for t in data["roi_types"]} == {c.name for c in RoiCode}
    assert {t["code"] for t in data["roi_types"] if t["closed"]} == {int(c) for c, t in ROI_TYPES.items() if t.closed}
    assert data["rendering_modes"] == ["VR", "MIP"]
    assert data["task_types"] == ["Database", "Image", "VRController", "ROI"]


def _roi_tables_outside_the_vocabulary() -> list[str]:
    """Literals that spell ROI types outside vocabulary.py: dicts or sets of three or more ROI codes, and
    OsiriX's ROI constant names."""
    codes = {int(c) for c in RoiCode}
    names = {t.osirix_name for t in ROI_TYPES.values()}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "vocabulary.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            items = node.keys if isinstance(node, ast.Dict) else node.elts if isinstance(node, ast.Set) else []
            ints = {i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, int)}
            if len(ints & codes) >= 3:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
            if isinstance(node, ast.Constant) and node.value in names:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.value!r}")
    return found


def test_no_roi_type_table_outside_the_vocabulary() -> None:
    assert _roi_tables_outside_the_vocabulary() == []
