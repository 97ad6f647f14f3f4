"""``tasks add FILE.py`` of a file of @osirix_task functions registers the functions (read from the source,
never run), ``FILE.py:FUNCTION`` one of them, and they run as decorated tasks on a real host."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import tomli

from osirix_tasks.testing import RunningHost

SOURCE = '''
from pathlib import Path

from osirix_tasks import TaskContext, osirix_task

Path(__file__).with_name("imported-marker").write_text("imported")  # a side effect of importing it


@osirix_task(type="Database", name="Count the selection", timeout=30)
def count(context: TaskContext) -> None:
    """How many studies are selected."""
    print(f"selected studies: {len(context.studies)}", flush=True)


@osirix_task("ROI", blocking=True)
def measure(context: TaskContext) -> None:
    print("measured")


def helper() -> int:
    return 1
'''


def make_file(folder: Path) -> Path:
    path = folder / "my_tasks.py"
    path.write_text(textwrap.dedent(SOURCE))
    return path


def test_a_file_of_decorated_functions_registers_each_function_without_running_it(
    host: RunningHost, tmp_path: Path
) -> None:
    source = make_file(tmp_path)
    registry = tmp_path / "tasks.toml"
    added = host.cli("--registry", str(registry), "tasks", "add", str(source), "--type", "Database")
    assert added.returncode == 1 and "is declared ROI by its decorator" in added.stderr  # measure is a ROI task
    added = host.cli("--registry", str(registry), "tasks", "add", str(source))
    assert added.returncode == 0, added.stderr
    entries = tomli.loads(registry.read_text())["task"]
    assert [(e["name"], e["type"], e["location"]) for e in entries] == [
        ("Count the selection", "Database", "my_tasks.py:count"),
        ("measure", "ROI", "my_tasks.py:measure"),
    ]
    assert entries[0]["description"] == "How many studies are selected." and entries[0]["timeout"] == 30
    assert entries[1]["blocking"] is True
    listed = json.loads(host.cli("--registry", str(registry), "tasks", "list", "--json").stdout)
    mine = {e["name"]: e for e in listed if e["origin"].startswith("tasks.toml")}
    assert set(mine) == {"Count the selection", "measure"}
    assert not (tmp_path / "imported-marker").exists()  # registering and listing never ran the file
    assert host.cli("select", "--study", first_study(host)).returncode == 0
    ran = host.cli("--registry", str(registry), "run", "Count the selection")
    assert ran.returncode == 0, ran.stderr
    assert "selected studies: 1" in ran.stdout  # the function's body ran (a script would print nothing)
    assert (tmp_path / "imported-marker").read_text() == "imported"


def test_one_function_of_a_file_is_registered_as_file_colon_function(host: RunningHost, tmp_path: Path) -> None:
    source = make_file(tmp_path)
    registry = tmp_path / "tasks.toml"
    added = host.cli("--registry", str(registry), "tasks", "add", f"{source}:measure")
    assert added.returncode == 0, added.stderr
    [entry] = tomli.loads(registry.read_text())["task"]
    assert (entry["name"], entry["type"], entry["location"]) == ("measure", "ROI", "my_tasks.py:measure")
    missing = host.cli("--registry", str(registry), "tasks", "add", f"{source}:helper")
    assert missing.returncode == 1 and "no @osirix_task function 'helper'" in missing.stderr
    assert "its decorated functions: count, measure" in missing.stderr


def test_a_decorator_whose_arguments_need_running_the_file_is_refused(host: RunningHost, tmp_path: Path) -> None:
    source = tmp_path / "dynamic.py"
    source.write_text(
        "from osirix_tasks import osirix_task\nKIND = 'ROI'\n\n@osirix_task(type=KIND)\ndef f(context):\n    pass\n"
    )
    added = host.cli("--registry", str(tmp_path / "tasks.toml"), "tasks", "add", str(source))
    assert added.returncode == 1
    assert "dynamic.py:4" in added.stderr and "cannot be read without running the file" in added.stderr


def first_study(host: RunningHost) -> str:
    return str(json.loads(host.cli("db", "studies", "--json").stdout)[0]["study_instance_uid"])


def test_a_pixels_task_of_a_file_is_registered_as_one(host: RunningHost, tmp_path: Path) -> None:
    source = tmp_path / "volume_tasks.py"
    source.write_text(
        "from osirix_tasks import osirix_task\n\n"
        '@osirix_task(type="Image", name="Volume mean", pixels=True)\n'
        "def volume_mean(context):\n    return {'mean': float(context.volume.mean())}\n\n"
        '@osirix_task(type="Image", name="Viewer title")\n'
        "def viewer_title(context):\n    pass\n"
    )
    registry = tmp_path / "tasks.toml"
    added = host.cli("--registry", str(registry), "tasks", "add", str(source))
    assert added.returncode == 0, added.stderr
    entries = {e["name"]: e for e in tomli.loads(registry.read_text())["task"]}
    assert entries["Volume mean"].get("pixels") is True  # a batch may ship its pixels to remote workers
    assert "pixels" not in entries["Viewer title"]
    listed = json.loads(host.cli("--registry", str(registry), "tasks", "list", "--json").stdout)
    pixels = {e["name"]: e["pixels"] for e in listed if e["name"] in entries}
    assert pixels == {"Volume mean": True, "Viewer title": False}
