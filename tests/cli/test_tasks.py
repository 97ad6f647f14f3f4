"""The tasks and menu commands, run for real (in-process click runner and a subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Invoke = Callable[..., Result]


def test_add_detects_name_and_language_and_lists_it(tmp_path: Path, script: Path, invoke: Invoke) -> None:
    registry = tmp_path / "tasks.toml"
    done = invoke(registry, "tasks", "add", str(script), "--type", "ROI", "--blocking")
    assert done.exit_code == 0, done.output
    listing = json.loads(invoke(registry, "tasks", "list", "--json").output)
    [mine] = [e for e in listing if e["origin"].startswith("tasks.toml")]
    assert mine["name"] == "measure_it" and mine["language"] == "python" and mine["blocking"] is True
    assert mine["origin"] == "tasks.toml:1" and mine["location"] == str(script)
    shown = json.loads(invoke(registry, "tasks", "show", "measure_it", "--json").output)
    assert shown[0]["type"] == "ROI"


def test_add_refuses_duplicates_missing_paths_and_interpreters(tmp_path: Path, script: Path, invoke: Invoke) -> None:
    registry = tmp_path / "tasks.toml"
    assert invoke(registry, "tasks", "add", str(script), "--type", "ROI").exit_code == 0
    before = registry.read_text()
    dup = invoke(registry, "tasks", "add", str(script), "--type", "gRPCROITool")
    assert dup.exit_code == 1 and "already registered at line 1" in dup.output
    missing = invoke(registry, "tasks", "add", str(tmp_path / "nope.py"), "--type", "Image")
    assert missing.exit_code == 1 and "field 'location'" in missing.output and "does not exist" in missing.output
    no_python = invoke(registry, "tasks", "add", str(script), "--type", "Image", "--interpreter", "/nowhere/python3")
    assert no_python.exit_code == 1
    assert "field 'interpreter': interpreter '/nowhere/python3' does not exist" in no_python.output
    builtin = invoke(registry, "tasks", "add", str(script), "--type", "ROI", "--name", "ROI statistics")
    assert builtin.exit_code == 1 and "already provided by builtin" in builtin.output
    bad_type = invoke(registry, "tasks", "add", str(script), "--type", "Viewer")
    assert bad_type.exit_code == 2 and "unknown task type 'Viewer'" in bad_type.output
    assert registry.read_text() == before


def test_remove_and_validate(tmp_path: Path, script: Path, invoke: Invoke) -> None:
    registry = tmp_path / "tasks.toml"
    invoke(registry, "tasks", "add", str(script), "--type", "ROI")
    invoke(registry, "tasks", "add", str(script), "--type", "Image")
    ambiguous = invoke(registry, "tasks", "remove", "measure_it")
    assert ambiguous.exit_code == 1 and "add --type" in ambiguous.output
    assert invoke(registry, "tasks", "remove", "measure_it", "--type", "Image").exit_code == 0
    ok = invoke(registry, "tasks", "validate")
    assert ok.exit_code == 0 and "OK, 6 tasks" in ok.output  # measure_it and the 5 builtin tasks
    script.unlink()
    broken = invoke(registry, "tasks", "validate", "--json")
    assert broken.exit_code == 1
    report = json.loads(broken.output)
    assert report["problems"][0].startswith("tasks.toml:4: task 'measure_it' (ROI): field 'location'")


def test_console_script_and_module_entry_points(tmp_path: Path) -> None:
    env = {**os.environ, "OSIRIX_TASKS_REGISTRY": str(tmp_path / "tasks.toml")}
    exe = Path(sys.executable).with_name("osirix-tasks")
    for command in ([str(exe), "menu", "--json"], [sys.executable, "-m", "osirix_tasks", "menu", "--json"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
        layout = json.loads(done.stdout)
        assert layout[0]["menus"][0]["entries"][0]["name"] == "Selection report"


def test_registry_path_precedence(tmp_path: Path, invoke: Invoke, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from osirix_tasks._support.paths import registry_path, user_config_dir

    monkeypatch.chdir(tmp_path)
    assert registry_path() == user_config_dir() / "tasks.toml"
    (tmp_path / "tasks.toml").write_text("")
    assert registry_path() == tmp_path / "tasks.toml"
    monkeypatch.setenv("OSIRIX_TASKS_REGISTRY", str(tmp_path / "env.toml"))
    assert registry_path() == tmp_path / "env.toml"
    assert registry_path(tmp_path / "flag.toml") == tmp_path / "flag.toml"
