"""The plugin's script_configs.json: import, export, round trip, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from osirix_tasks import TaskType
from osirix_tasks.registry import load_registry

Invoke = Callable[..., Result]


def plugin_file(path: Path, entries: list[dict[str, str]]) -> Path:
    path.write_text(json.dumps(entries, indent=4))
    return path


def test_round_trip_is_loss_free(tmp_path: Path, script: Path, invoke: Invoke) -> None:
    other = script.with_name("other.py")
    other.write_text("pass\n")
    entries = [
        {
            "name": "Smooth it",
            "path": str(script),
            "interpreterPath": sys.executable,
            "type": "Image",
            "blocking": "YES",
        },
        {"name": "Stats", "path": str(other), "interpreterPath": sys.executable, "type": "ROI", "blocking": "NO"},
        {"name": "Spin", "path": str(other), "interpreterPath": sys.executable, "type": "VR", "blocking": "NO"},
        {
            "name": "Report",
            "path": str(script),
            "interpreterPath": sys.executable,
            "type": "Database",
            "blocking": "NO",
        },
    ]
    source = plugin_file(tmp_path / "script_configs.json", entries)
    registry = tmp_path / "tasks.toml"
    done = invoke(registry, "tasks", "import-plugin", str(source))
    assert done.exit_code == 0, done.output
    loaded = load_registry(registry, strict=True)
    assert [(t.name, t.type, t.blocking) for t in loaded.tasks] == [
        ("Smooth it", TaskType.IMAGE, True),
        ("Stats", TaskType.ROI, False),
        ("Spin", TaskType.VR_CONTROLLER, False),
        ("Report", TaskType.DATABASE, False),
    ]
    exported = tmp_path / "exported.json"
    assert invoke(registry, "tasks", "export-plugin", str(exported)).exit_code == 0
    assert json.loads(exported.read_text()) == entries


def test_pyosirix_spellings_are_imported(tmp_path: Path, script: Path, invoke: Invoke) -> None:
    source = plugin_file(
        tmp_path / "script_configs.json",
        [
            {
                "name": "A",
                "path": str(script),
                "interpreterPath": sys.executable,
                "type": "gRPCROITool",
                "blocking": False,
            }
        ],
    )
    registry = tmp_path / "tasks.toml"
    assert invoke(registry, "tasks", "import-plugin", str(source)).exit_code == 0
    [task] = load_registry(registry, strict=True).tasks
    assert task.type is TaskType.ROI


def test_bad_entries_are_all_reported_and_nothing_is_written(tmp_path: Path, script: Path, invoke: Invoke) -> None:
    source = plugin_file(
        tmp_path / "script_configs.json",
        [
            {"name": "Good", "path": str(script), "interpreterPath": sys.executable, "type": "Image", "blocking": "NO"},
            {
                "name": "Gone",
                "path": "/no/such/script.py",
                "interpreterPath": sys.executable,
                "type": "Image",
                "blocking": "NO",
            },
            {"name": "Odd", "path": str(script), "interpreterPath": "/no/python", "type": "Brush", "blocking": "NO"},
        ],
    )
    registry = tmp_path / "tasks.toml"
    done = invoke(registry, "tasks", "import-plugin", str(source))
    assert done.exit_code == 1
    assert (
        "script_configs.json: entry 2 ('Gone'): field 'path': script '/no/such/script.py' does not exist" in done.output
    )
    assert "script_configs.json: entry 3 ('Odd'): field 'type': unknown task type 'Brush'" in done.output
    assert "entry 3 ('Odd'): field 'interpreterPath': interpreter '/no/python' does not exist" in done.output
    assert not registry.exists()


def test_json_syntax_error_has_line_and_column(tmp_path: Path, invoke: Invoke) -> None:
    source = tmp_path / "script_configs.json"
    source.write_text('[\n  {"name": "x",\n   "type" "Image"}\n]\n')
    done = invoke(tmp_path / "tasks.toml", "tasks", "import-plugin", str(source))
    assert done.exit_code == 1
    assert "script_configs.json:3:11: JSON syntax error: Expecting ':' delimiter" in done.output
