"""``osirix-tasks new-pack``: a pack that installs, whose own tests pass, and whose tasks reach the menus."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from osirix_tasks.cli import cli
from osirix_tasks.model import TaskType
from osirix_tasks.testing import overlay_venv, pip_install_local


@pytest.fixture
def new_pack(tmp_path: Path) -> Callable[..., Result]:
    """``new_pack(*args)``: ``osirix-tasks new-pack ARGS --dir TMP`` in-process."""

    def call(*args: str) -> Result:
        return CliRunner().invoke(cli, ["new-pack", *args, "--dir", str(tmp_path)], catch_exceptions=False)

    return call


def decorated(source: Path) -> dict[str, tuple[str, str]]:
    """function name -> (type, name) of each @osirix_task in a file, read with ast (not imported)."""
    found = {}
    for node in ast.parse(source.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "osirix_task":
                    keywords = {k.arg: k.value for k in decorator.keywords}
                    kind = ast.literal_eval(keywords["type"])
                    found[node.name] = (kind, ast.literal_eval(keywords["name"]))
    return found


def test_new_pack_writes_an_installable_pack_with_one_task_per_type(
    new_pack: Callable[..., Result], tmp_path: Path
) -> None:
    result = new_pack("lung-tools")

    assert result.exit_code == 0, result.output
    root = tmp_path / "lung-tools"
    files = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())
    assert files == [
        "README.md",
        "pyproject.toml",
        "src/lung_tools/__init__.py",
        "src/lung_tools/plugin.py",
        "src/lung_tools/tasks.py",
        "tests/test_lung_tools.py",
    ]
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["project"]["name"] == "lung-tools"
    assert project["project"]["entry-points"]["osirix_tasks"] == {"lung_tools": "lung_tools.plugin"}
    tasks = decorated(root / "src" / "lung_tools" / "tasks.py")
    assert sorted(TaskType.parse(kind) for kind, _ in tasks.values()) == sorted(TaskType)
    assert all(name.startswith("Lung tools: ") for _, name in tasks.values())
    for path in root.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")  # every template filled in is valid Python
    test_source = (root / "tests" / "test_lung_tools.py").read_text()
    for fixture in ("osirix", "osirix_viewer", "osirix_roi", "osirix_vr", "run_task"):
        assert f"{fixture}: " in test_source
    assert "'Lung tools: ...'" in result.output and "pytest" in result.output


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("9lives", "starting with a letter"),
        ("two--dashes", "single '-'"),
        ("has space", "use letters and digits"),
        ("osirix-tasks", "'osirix_tasks', which is taken"),
        ("class", "'class', which is taken"),
    ],
)
def test_new_pack_refuses_names_that_make_no_package(new_pack: Callable[..., Result], name: str, message: str) -> None:
    result = new_pack(name)

    assert result.exit_code == 1
    assert message in result.stderr


def test_new_pack_never_writes_over_a_folder(new_pack: Callable[..., Result], tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("precious")

    result = new_pack("mine")

    assert result.exit_code == 1 and "already exists and is not empty" in result.stderr
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["keep.txt"]


@pytest.mark.slow
def test_a_new_pack_installs_its_tests_pass_and_its_tasks_are_in_the_menus(
    new_pack: Callable[..., Result], tmp_path: Path
) -> None:
    assert new_pack("kidney-kit").exit_code == 0
    root = tmp_path / "kidney-kit"
    python = overlay_venv(tmp_path / "venv")
    pip_install_local(python, root)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}

    tests = subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "-rA", "-q"],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    menu = subprocess.run(
        [str(python), "-m", "osirix_tasks", "menu", "--json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )

    assert tests.returncode == 0, tests.stdout + tests.stderr
    passed = [line for line in tests.stdout.splitlines() if line.startswith("PASSED ")]
    defined = (root / "tests" / "test_kidney_kit.py").read_text().count("\ndef test_")
    assert len(passed) == defined >= 5, tests.stdout
    assert menu.returncode == 0, menu.stderr
    entries = {
        (entry["name"], submenu["type"], entry["origin"])
        for window in json.loads(menu.stdout)
        for submenu in window["menus"]
        for entry in submenu["entries"]
    }
    declared = decorated(root / "src" / "kidney_kit" / "tasks.py").values()
    expected = {(name, TaskType.parse(kind).value) for kind, name in declared}
    assert {(name, kind) for name, kind, origin in entries if origin == "pack kidney-kit"} == expected
    assert len(expected) == 4
