"""Small promises of the CLI: validated --server, a broken tasks.toml does not hide builtins, honest hints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from osirix_tasks.testing import Project

BROKEN = '[[task]]\nname = "x\ntype = "ROI"\n'  # an unterminated string: a TOML syntax error


@pytest.mark.parametrize(
    ("server", "says"),
    [("10.1.2.3:50051", "is not this machine"), ("127.0.0.1:http", "is not a number"), ("70000", "out of range")],
)
def test_server_is_validated(project: Project, server: str, says: str) -> None:
    project.script("hello", "print('hi')\n")
    done = project.cli("run", "hello", "--server", server)
    assert done.returncode == 1 and says in done.stderr and "Traceback" not in done.stderr
    assert project.runs() == []  # nothing started


def test_a_broken_registry_does_not_hide_builtin_tasks(project: Project) -> None:
    project.registry.write_text(BROKEN)
    listed = project.cli("tasks", "list", "--json")
    assert listed.returncode == 0
    names = {t["name"] for t in json.loads(listed.stdout)}
    assert {"Selection report", "Gaussian smooth", "ROI statistics", "Toggle VR/MIP"} <= names
    assert "TOML syntax error" in listed.stderr
    ran = project.cli("run", "Selection report")  # builtin: runs (no server here, so it stops at its context)
    assert ran.returncode == 3 and "no task named" not in ran.stderr
    validated = project.cli("tasks", "validate")
    assert validated.returncode == 1 and "TOML syntax error" in validated.stderr


def test_the_restore_hint_appears_only_with_a_backup(project: Project) -> None:
    project.registry.write_text(BROKEN)
    assert "tasks restore" not in project.cli("tasks", "validate").stderr
    project.registry.with_name("tasks.toml.bak").write_text("")
    assert "tasks restore" in project.cli("tasks", "validate").stderr


def test_validate_reports_unknown_disabled_packs(project: Project) -> None:
    project.registry.write_text('[settings]\ndisabled_packs = ["buitlin", "no-such-pack"]\n')
    done = project.cli("tasks", "validate")
    assert done.returncode == 1
    assert "'buitlin'" in done.stderr and "did you mean 'builtin'" in done.stderr and "'no-such-pack'" in done.stderr


def test_validate_reports_a_named_registry_that_does_not_exist(project: Project, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "tasks.toml"
    done = project.cli("--registry", str(missing), "tasks", "validate")
    assert done.returncode == 1 and "no such file" in done.stderr and str(missing) in done.stderr


def test_export_says_which_tasks_it_leaves_out(project: Project, tmp_path: Path) -> None:
    project.script("plain", "print(1)\n")
    (project.root / "decorated_mod.py").write_text(
        "from osirix_tasks import osirix_task\n\n@osirix_task(type='ROI')\ndef measure(context):\n    pass\n"
    )
    with project.registry.open("a") as handle:
        handle.write('[[task]]\nname = "measure"\ntype = "ROI"\nlocation = "decorated_mod:measure"\n')
    out = tmp_path / "script_configs.json"
    done = project.cli("tasks", "export-scripts", str(out))
    assert done.returncode == 0, done.stderr
    assert [e["name"] for e in json.loads(out.read_text())] == ["plain"]
    assert "'measure' (ROI) not exported" in done.stderr and "decorated function" in done.stderr
