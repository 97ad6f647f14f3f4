from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from osirix_tasks import TaskSpec, TaskType


@pytest.mark.parametrize(
    ("spelling", "expected"),
    [
        ("Database", TaskType.DATABASE),
        ("gRPCDatabaseTool", TaskType.DATABASE),
        (4, TaskType.DATABASE),
        ("Image", TaskType.IMAGE),
        ("gRPCImageRenderTool", TaskType.IMAGE),
        ("1", TaskType.IMAGE),
        ("ROI", TaskType.ROI),
        ("gRPCROITool", TaskType.ROI),
        (2, TaskType.ROI),
        ("VR", TaskType.VR_CONTROLLER),
        ("VRController", TaskType.VR_CONTROLLER),
        ("gRPCVolumeRenderTool", TaskType.VR_CONTROLLER),
        (3, TaskType.VR_CONTROLLER),
    ],
)
def test_type_accepts_plugin_spellings_and_codes(spelling: object, expected: TaskType) -> None:
    assert TaskType.parse(spelling) is expected


def test_unknown_type_names_the_accepted_ones() -> None:
    with pytest.raises(ValueError, match="unknown task type 'Viewer' - use one of Database, Image"):
        TaskType.parse("Viewer")


def test_defaults_come_from_the_file(script: Path) -> None:
    spec = TaskSpec(type="ROI", location=str(script))
    assert spec.name == "measure_it"
    assert spec.language == "python"
    assert spec.blocking is False
    assert spec.interpreter == sys.executable
    assert spec.key == ("measure_it", TaskType.ROI)
    assert spec.is_script


def test_non_python_script_is_a_clear_error(tmp_path: Path) -> None:
    shell = tmp_path / "run.sh"
    shell.write_text("echo hi\n")
    with pytest.raises(ValidationError, match=r"only Python scripts \(.py\) are supported"):
        TaskSpec(type="Image", location=str(shell))


def test_module_location_is_python_without_a_file() -> None:
    spec = TaskSpec(type="Image", location="pkg.mod:func")
    assert spec.language == "python" and spec.name == "func" and not spec.is_script


def test_timeout_must_be_positive(script: Path) -> None:
    with pytest.raises(ValidationError, match="greater than 0"):
        TaskSpec(type="Image", location=str(script), timeout=0)
