"""The one run service: ``start(task, target, where, follow)`` for every entry point, the target in the
task's environment, one task lookup with one message, the run store always an object."""

from __future__ import annotations

import ast
import json
import time
from pathlib import Path

import pytest

from osirix_tasks.contract import Target
from osirix_tasks.errors import OsirixTasksError, TaskNotFound
from osirix_tasks.host.control import live_hosts
from osirix_tasks.host.remote_runs import OnHost
from osirix_tasks.run.start import Here, TaskRequest, start
from osirix_tasks.run.store import STDOUT, RunStore, store_path
from osirix_tasks.testing import RunningHost

PACKAGE = Path(__file__).resolve().parents[2] / "osirix_tasks"
PRINT_TARGET = "import os\nprint(os.environ.get('OSIRIX_TASKS_TARGET', 'none'))\n"


def _registry(tmp_path: Path) -> Path:
    script = tmp_path / "print_target.py"
    script.write_text(PRINT_TARGET)
    registry = tmp_path / "tasks.toml"
    registry.write_text(f'[[task]]\nname = "print target"\ntype = "Database"\nlocation = "{script}"\n')
    return registry


def _stdout(store: RunStore, run_id: str) -> str:
    return "".join(c.text for c in store.output(run_id) if c.stream == STDOUT)


def _on_host(host: RunningHost, store: Path) -> OnHost:
    info = next(h for h in live_hosts(host.env()) if h.pid == host.process.pid)
    return OnHost(info, store)


def test_a_target_reaches_the_task_process_whoever_supervises_the_run(host: RunningHost, tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    target = Target(study="1.2.3", series="1.2.3.4 TE-1", rois=("lesion", "liver"))
    task = TaskRequest(name="print target", registry=registry, address=host.address)
    store = RunStore(tmp_path / "runs.sqlite")
    here = start(task, target, Here(store), follow=True)
    there = start(task, target, _on_host(host, store.path), follow=True)
    untargeted = start(task, None, Here(store), follow=True)

    for record in (here, there):
        assert record.status == "succeeded", record
        printed = _stdout(store, record.id).strip()
        assert Target.from_env(printed) == target
        assert json.loads(printed)["rois"] == ["lesion", "liver"]
    assert _stdout(store, untargeted.id).strip() == "none"


def test_a_decorated_task_finds_its_target_in_its_context(host: RunningHost, tmp_path: Path) -> None:
    (tmp_path / "target_probe.py").write_text(
        "from osirix_tasks import osirix_task\n\n\n"
        "@osirix_task(type='Database', name='probe target')\n"
        "def probe(context):\n"
        "    print(repr(context.target))\n"
        "    print(len(context.studies), len(context.series))\n"
    )
    registry = tmp_path / "tasks.toml"
    registry.write_text('[settings]\nmodules = ["target_probe"]\n')
    store = RunStore(tmp_path / "runs.sqlite")
    [first, *_] = json.loads(host.cli("db", "series", "--json", "--server", host.address).stdout)
    target = Target(study=first["study_instance_uid"], series=first["series_instance_uid"], rois=("a",))
    task = TaskRequest(name="probe target", registry=registry, address=host.address)
    for where in (Here(store), _on_host(host, store.path)):
        record = start(task, target, where, follow=True)
        assert record.status == "succeeded", _stdout(store, record.id)
        # the context hooks built the context from the target: that series as the browser selection
        assert _stdout(store, record.id).splitlines() == [repr(target), "0 1"]


def test_a_background_start_returns_at_once_and_the_run_goes_on(host: RunningHost, tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    task = TaskRequest(name="print target", registry=registry, address=host.address)
    store = RunStore(tmp_path / "runs.sqlite")
    record = start(task, Target(series="9.9"), _on_host(host, store.path), follow=False)
    assert record.status in ("starting", "running")
    for _ in range(200):
        final = store.get(record.id)
        if final is not None and final.finished:
            break
        time.sleep(0.05)
    assert final is not None and final.status == "succeeded"
    assert Target.from_env(_stdout(store, record.id).strip()) == Target(series="9.9")


def test_an_unknown_task_gets_one_message_here_and_on_a_host(host: RunningHost, tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    task = TaskRequest(name="No such task", registry=registry, address=host.address)
    store = RunStore(tmp_path / "runs.sqlite")
    with pytest.raises(TaskNotFound) as here:
        start(task, None, Here(store), follow=True)
    with pytest.raises(OsirixTasksError) as there:
        start(task, None, _on_host(host, store.path), follow=True)
    assert str(here.value) == str(there.value)
    assert "no task named 'No such task'" in str(here.value)
    assert "known tasks: " in str(here.value) and "print target (Database)" in str(here.value)
    assert store.runs() == []  # nothing was recorded


def test_an_ambiguous_name_asks_for_the_type(tmp_path: Path) -> None:
    script = tmp_path / "twice.py"
    script.write_text("print(1)\n")
    registry = tmp_path / "tasks.toml"
    registry.write_text(
        "".join(f'[[task]]\nname = "twice"\ntype = "{kind}"\nlocation = "{script}"\n\n' for kind in ("Database", "ROI"))
    )
    store = RunStore(tmp_path / "runs.sqlite")
    with pytest.raises(TaskNotFound, match=r"2 tasks are named 'twice' \(Database, ROI\) - give its type"):
        start(TaskRequest(name="twice", registry=registry), None, Here(store), follow=True)
    record = start(TaskRequest(name="twice", registry=registry, type="ROI"), None, Here(store), follow=True)
    assert record.task_type == "ROI" and record.status == "succeeded"


def test_the_run_store_is_always_named() -> None:
    with pytest.raises(TypeError):
        RunStore()  # type: ignore[call-arg]
    store = RunStore.default()
    try:
        assert store.path == store_path()
    finally:
        store.close()


@pytest.mark.parametrize(
    "module", ["cli/run_cmd.py", "cli/demo_cmd.py", "web/runs.py", "host/runs.py", "testing/tasks.py"]
)
def test_every_entry_point_starts_runs_through_the_run_service(module: str) -> None:
    """They call ``run.start`` and none plans or starts a run itself."""
    tree = ast.parse((PACKAGE / module).read_text(encoding="utf-8"))
    imported = {
        (node.module or "", alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert any(mod.endswith("run.start") and name in ("start", "OnService") for mod, name in imported), imported
    assert not {name for _, name in imported} & {"plan_run", "start_run", "record_run"}


def test_what_triggered_a_run_is_recorded_with_it_from_its_start(tmp_path: Path) -> None:
    registry = _registry(tmp_path)
    cause = {"trigger": "CT arrives", "series": "1.2.3.4", "instances": 3, "calling_aets": ["CT1"]}
    store = RunStore(tmp_path / "runs.sqlite")
    seen_at_start = []

    def follow(stream: int, text: str) -> None:  # while it runs, the record already says why
        if not seen_at_start:
            reader = store.reopen()
            seen_at_start.append(reader.latest().triggered_by)  # type: ignore[union-attr]
            reader.close()

    record = start(TaskRequest(name="print target", registry=registry, triggered_by=cause), None, Here(store), follow)
    assert record.status == "succeeded" and record.triggered_by == cause and seen_at_start == [cause]
    plain = start(TaskRequest(name="print target", registry=registry), None, Here(store), follow=True)
    assert plain.triggered_by is None and store.get(plain.id).triggered_by is None  # type: ignore[union-attr]
