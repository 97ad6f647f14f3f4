"""tasks.toml: every validation error shape, atomic writes, the writer lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tomli

from osirix_tasks import TaskSpec, TaskType
from osirix_tasks.registry import RegistryError, add_tasks, load_registry, remove_task


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def problems_of(path: Path) -> list[str]:
    return [str(p) for p in load_registry(path).problems]


def test_valid_registry_resolves_relative_paths(tmp_path: Path, script: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        """
        [[task]]
        name = "Measure"
        type = "ROI"
        location = "scripts/measure_it.py"
        blocking = true
        args = ["--fast"]
        timeout = 2.5
    """,
    )
    registry = load_registry(reg, strict=True)
    [spec] = registry.tasks
    assert spec.location == str(script)
    assert (spec.name, spec.type, spec.blocking, spec.args, spec.timeout) == (
        "Measure",
        TaskType.ROI,
        True,
        ["--fast"],
        2.5,
    )
    assert registry.line_of(spec.key) == 1


def test_missing_field_names_file_line_task_and_field(tmp_path: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        """
        # comment

        [[task]]
        name = "No location"
        type = "Image"
    """,
    )
    assert problems_of(reg) == [
        "tasks.toml:3: task 'No location' (Image): field 'location': missing - add it: give the "
        "script's path as a string, or module:function for a decorated task"
    ]


def test_wrong_type_points_at_the_line_of_the_field(tmp_path: Path, script: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        f"""
        [[task]]
        name = "A"
        type = "ROI"
        location = "{script}"
        blocking = "maybe"
    """,
    )
    [problem] = problems_of(reg)
    assert problem.startswith("tasks.toml:5: task 'A' (ROI): field 'blocking': input should be a valid boolean")
    assert problem.endswith("- write true or false")


def test_unknown_task_type(tmp_path: Path, script: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        f"""
        [[task]]
        name = "A"
        location = "{script}"
        type = "Viewer"
    """,
    )
    [problem] = problems_of(reg)
    assert problem.startswith("tasks.toml:4: task 'A' (Viewer): field 'type': unknown task type 'Viewer'")
    assert "use one of Database, Image, VRController, ROI" in problem


def test_missing_script(tmp_path: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        """
        [[task]]
        type = "Database"
        location = "/nowhere/gone.py"
    """,
    )
    assert problems_of(reg) == [
        "tasks.toml:3: task 'gone' (Database): field 'location': script '/nowhere/gone.py' does not "
        "exist - create it or fix the path"
    ]


def test_missing_interpreter(tmp_path: Path, script: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        f"""
        [[task]]
        name = "A"
        type = "Image"
        location = "{script}"

        interpreter = "/opt/nopython/bin/python3"
    """,
    )
    [problem] = problems_of(reg)
    assert problem.startswith(
        "tasks.toml:6: task 'A' (Image): field 'interpreter': interpreter '/opt/nopython/bin/python3' does not exist"
    )


def test_duplicate_name_and_type(tmp_path: Path, script: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        f"""
        [[task]]
        name = "Twice"
        type = "ROI"
        location = "{script}"

        [[task]]
        name = "Twice"
        type = "Image"
        location = "{script}"

        [[task]]
        name = "Twice"
        type = "gRPCROITool"
        location = "{script}"
    """,
    )
    registry = load_registry(reg)
    assert [t.type for t in registry.tasks] == [TaskType.ROI, TaskType.IMAGE]
    assert [str(p) for p in registry.problems] == [
        "tasks.toml:12: task 'Twice' (gRPCROITool): field 'name': duplicate: task 'Twice' (ROI) is "
        "already defined at line 1 - rename one of them or change its type"
    ]


def test_toml_syntax_error_reports_line_and_column(tmp_path: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        """
        [[task]]
        name = "A"
        type = "ROI
    """,
    )
    with pytest.raises(RegistryError) as info:
        load_registry(reg, strict=True)
    message = str(info.value)
    assert message.startswith("tasks.toml:3:")
    assert "TOML syntax error" in message and "fix the syntax" in message
    lenient = load_registry(reg)  # what listing uses: an empty registry that carries the problem
    assert lenient.tasks == [] and [str(p) for p in lenient.problems] == [message]


def test_all_problems_are_reported_at_once(tmp_path: Path, script: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        f"""
        [settings]
        disabled_packs = "not-a-list"

        [[task]]
        type = "Nope"
        location = "{script}"
        colour = "red"

        [[task]]
        name = "Fine"
        type = "ROI"
        location = "{script}"

        [extras]
        x = 1
    """,
    )
    found = problems_of(reg)
    assert len(found) == 4
    assert found[0].startswith("tasks.toml:2: settings: field 'disabled_packs'")
    assert any(p.startswith("tasks.toml:5: task 'measure_it' (Nope): field 'type'") for p in found)
    assert any(p.startswith("tasks.toml:7: task 'measure_it' (Nope): field 'colour': unknown field") for p in found)
    assert any(p.startswith("tasks.toml:14: table 'extras': unknown table") for p in found)
    assert [t.name for t in load_registry(reg).tasks] == ["Fine"]
    with pytest.raises(RegistryError):
        load_registry(reg, strict=True)


def test_missing_registry_is_empty(tmp_path: Path) -> None:
    registry = load_registry(tmp_path / "absent.toml", strict=True)
    assert registry.tasks == [] and not registry.exists


def test_add_keeps_comments_and_other_entries_and_a_backup(tmp_path: Path, script: Path) -> None:
    original = f"""
        # my registry - keep this comment
        [settings]
        modules = []

        [[task]]
        name = "Keep me"   # inline comment
        type = "ROI"
        location = "{script}"
        unknown_but_kept = 1
    """
    reg = write(tmp_path / "tasks.toml", original)
    before = reg.read_text()
    add_tasks(reg, [TaskSpec(name="New", type="Image", location=str(script))])
    after = reg.read_text()
    assert after.startswith(before)  # untouched text, byte for byte
    assert (tmp_path / "tasks.toml.bak").read_text() == before
    entries = tomli.loads(after)["task"]
    assert [e["name"] for e in entries] == ["Keep me", "New"]
    with pytest.raises(RegistryError, match="already registered at line"):
        add_tasks(reg, [TaskSpec(name="New", type="Image", location=str(script))])
    assert reg.read_text() == after


def test_remove_cuts_only_that_entry(tmp_path: Path, script: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        f"""
        # header comment
        [[task]]
        name = "A"
        type = "ROI"
        location = "{script}"

        # comment about B
        [[task]]
        name = "B"
        type = "ROI"
        location = "{script}"

        [[task]]
        name = "A"
        type = "Image"
        location = "{script}"
    """,
    )
    with pytest.raises(RegistryError, match=r"several tasks have this name \(ROI, Image\) - add --type"):
        remove_task(reg, "A")
    remove_task(reg, "A", TaskType.IMAGE)
    text = reg.read_text()
    assert "# header comment" in text and "# comment about B" in text
    assert [(t.name, t.type) for t in load_registry(reg, strict=True).tasks] == [
        ("A", TaskType.ROI),
        ("B", TaskType.ROI),
    ]
    with pytest.raises(RegistryError, match="not in this registry"):
        remove_task(reg, "Z")


KILL_BEFORE_RENAME = """
import os, signal, sys
from osirix_tasks import TaskSpec
from osirix_tasks.registry import add_tasks

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

os.replace = die   # the temp file is written and fsynced; the process dies before the rename
add_tasks(sys.argv[1], [TaskSpec(name="Half", type="ROI", location=sys.argv[2])])
"""


def test_a_write_killed_before_the_rename_leaves_the_old_registry(tmp_path: Path, script: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        f"""
        [[task]]
        name = "Old"
        type = "ROI"
        location = "{script}"
    """,
    )
    before = reg.read_text()
    done = subprocess.run([sys.executable, "-c", KILL_BEFORE_RENAME, str(reg), str(script)])
    assert done.returncode == -9
    assert reg.read_text() == before
    assert [t.name for t in load_registry(reg, strict=True).tasks] == ["Old"]
    add_tasks(reg, [TaskSpec(name="After", type="ROI", location=str(script))])  # lock was released
    assert [t.name for t in load_registry(reg, strict=True).tasks] == ["Old", "After"]


CONCURRENT_WRITER = """
import sys
from osirix_tasks import TaskSpec
from osirix_tasks.registry import add_tasks
registry, script, prefix = sys.argv[1:4]
for i in range(15):
    add_tasks(registry, [TaskSpec(name=f"{prefix}-{i}", type="ROI", location=script)])
"""


def test_concurrent_writers_lose_nothing(tmp_path: Path, script: Path) -> None:
    reg = tmp_path / "tasks.toml"
    writers = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(reg), str(script), f"w{n}"]) for n in range(4)
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0, 0, 0]
    names = {t.name for t in load_registry(reg, strict=True).tasks}
    assert names == {f"w{n}-{i}" for n in range(4) for i in range(15)}


def test_load_settings_reads_only_the_settings(tmp_path: Path) -> None:
    reg = write(
        tmp_path / "tasks.toml",
        """
        [settings]
        disabled_packs = ["noisy"]
        plugins_dir = "my-plugins"

        [[task]]
        type = "Nope"
        location = "/nowhere.py"
    """,
    )
    from osirix_tasks.registry import load_settings

    settings_only = load_settings(reg)
    assert settings_only.settings.disabled_packs == ["noisy"]
    assert settings_only.plugins_dir == (tmp_path / "my-plugins").resolve()
    assert settings_only.tasks == [] and settings_only.problems == []  # the broken task was not looked at
    assert len(load_registry(reg).problems) == 2
