"""Task sources merged into one catalog; menus; local plugins; clashes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from osirix_tasks.catalog import build_catalog, menus
from osirix_tasks.registry import load_registry


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in list(sys.modules):
        if name.startswith(("mytasks", "osirix_tasks_local_plugins")):
            del sys.modules[name]
    (tmp_path / "mytasks.py").write_text(
        textwrap.dedent("""
        from osirix_tasks import osirix_task

        @osirix_task(type="ROI", name="Module ROI task", blocking=True)
        def measure(context):
            '''Measure things.'''
    """)
    )
    return tmp_path


def test_sources_are_merged_with_their_origin(project: Path) -> None:
    plugins = project / "plugins"
    plugins.mkdir()
    (plugins / "local_one.py").write_text(
        textwrap.dedent("""
        from osirix_tasks import hookimpl, osirix_task

        @osirix_task(type="VR", name="Local VR")
        def spin(context):
            pass

        @hookimpl
        def osirix_tasks_register_tasks():
            return [spin]
    """)
    )
    (project / "tasks.toml").write_text('[settings]\nmodules = ["mytasks"]\n')
    catalog = build_catalog(load_registry(project / "tasks.toml"))
    assert catalog.problems == []
    origins = {e.spec.name: e.origin for e in catalog.entries}
    assert origins["Module ROI task"] == "module mytasks"
    assert origins["Local VR"] == "local plugin local_one.py"
    assert origins["Gaussian smooth"] == "builtin"
    [entry] = catalog.find("Module ROI task")
    assert entry.spec.blocking and entry.spec.description == "Measure things."
    assert entry.spec.location == "mytasks:measure"


def test_module_entry_in_task_table(project: Path) -> None:
    (project / "tasks.toml").write_text('[[task]]\nmodule = "mytasks"\n\n[[task]]\nmodule = "nosuchmod"\n')
    catalog = build_catalog(load_registry(project / "tasks.toml"))
    assert [e.spec.name for e in catalog.entries if e.origin == "module mytasks"] == ["Module ROI task"]
    [problem] = catalog.problems
    assert problem.startswith("tasks.toml:5: module 'nosuchmod': cannot be imported: ModuleNotFoundError")


def test_broken_and_clashing_local_plugins_are_skipped_whole(project: Path) -> None:
    plugins = project / "plugins"
    plugins.mkdir()
    (plugins / "a_broken.py").write_text("import does_not_exist_anywhere\n")
    (plugins / "b_clash.py").write_text(
        textwrap.dedent("""
        from osirix_tasks import hookimpl, osirix_task

        @osirix_task(type="Image", name="Gaussian smooth")
        def mine(context):
            pass

        @osirix_task(type="Image", name="Would be fine")
        def fine(context):
            pass

        @hookimpl
        def osirix_tasks_register_tasks():
            return [mine, fine]
    """)
    )
    (plugins / "c_bad_item.py").write_text(
        textwrap.dedent("""
        from osirix_tasks import hookimpl

        @hookimpl
        def osirix_tasks_register_tasks():
            return ["not a task"]
    """)
    )
    (project / "tasks.toml").write_text("")
    catalog = build_catalog(load_registry(project / "tasks.toml"))
    names = [e.spec.name for e in catalog.entries]
    assert "Would be fine" not in names and names.count("Gaussian smooth") == 1
    assert len(catalog.problems) == 3
    assert "a_broken.py': cannot be loaded: ModuleNotFoundError" in catalog.problems[0]
    assert catalog.problems[1].startswith(
        "local plugin b_clash.py: task 'Gaussian smooth' (Image) is already provided by builtin - skipped"
    )
    assert catalog.problems[2].startswith("local plugin c_bad_item.py: osirix_tasks_register_tasks() failed")


def test_registry_entry_clashing_with_a_builtin_is_reported(project: Path, script: Path) -> None:
    (project / "tasks.toml").write_text(f'[[task]]\nname = "ROI statistics"\ntype = "ROI"\nlocation = "{script}"\n')
    catalog = build_catalog(load_registry(project / "tasks.toml"))
    assert catalog.problems == [
        "tasks.toml:1: task 'ROI statistics' (ROI) is already provided by builtin - rename it or change its type"
    ]


def test_disabling_by_name(project: Path) -> None:
    (project / "tasks.toml").write_text('[settings]\ndisabled_packs = ["builtin"]\n')
    catalog = build_catalog(load_registry(project / "tasks.toml"))
    assert catalog.entries == []


def test_menus_follow_osirix_toolbars(project: Path) -> None:
    (project / "tasks.toml").write_text('[settings]\nmodules = ["mytasks"]\n')
    layout = menus(build_catalog(load_registry(project / "tasks.toml")))
    assert [w["window"] for w in layout] == ["Database window", "2D viewer", "3D viewer"]
    viewer = layout[1]["menus"]
    assert [(m["submenu"], m["type"]) for m in viewer] == [("Image Filter", "Image"), ("ROI Filter", "ROI")]
    assert [e["name"] for e in viewer[1]["entries"]] == ["ROI statistics", "Module ROI task"]
    assert [e["name"] for e in layout[2]["menus"][0]["entries"]] == ["Toggle VR/MIP"]


def test_a_misspelled_hook_is_a_problem_of_its_plugin(project: Path) -> None:
    plugins = project / "plugins"
    plugins.mkdir()
    (plugins / "typo.py").write_text(
        textwrap.dedent("""
        from osirix_tasks import hookimpl, osirix_task

        @osirix_task(type="ROI", name="Never listed")
        def measure(context):
            pass

        @hookimpl
        def osirix_tasks_register_task():
            return [measure]
    """)
    )
    (plugins / "unmarked.py").write_text(
        textwrap.dedent("""
        def osirix_tasks_register_tasks():
            return []
    """)
    )
    (project / "tasks.toml").write_text("")
    catalog = build_catalog(load_registry(project / "tasks.toml"))
    [typo] = [p for p in catalog.problems if "typo.py" in p]
    assert "'osirix_tasks_register_task'" in typo and "did you mean 'osirix_tasks_register_tasks'" in typo
    assert "skipped" in typo
    [unmarked] = [p for p in catalog.problems if "unmarked.py" in p]
    assert "without @osirix_tasks.hookimpl" in unmarked
    assert catalog.find("Never listed") == []


def test_validate_reports_a_misspelled_hook(project: Path) -> None:
    plugins = project / "plugins"
    plugins.mkdir()
    (plugins / "typo.py").write_text(
        "from osirix_tasks import hookimpl\n\n@hookimpl\ndef osirix_tasks_enviroment(task, env):\n    pass\n"
    )
    (project / "tasks.toml").write_text("")
    done = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "--registry", str(project / "tasks.toml"), "tasks", "validate"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "osirix_tasks_enviroment" in done.stderr and "did you mean 'osirix_tasks_environment'" in done.stderr
