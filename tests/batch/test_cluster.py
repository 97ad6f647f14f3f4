"""Batches on a real Dask cluster: a ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1,
a real embedded OsiriX holding a pydicom-written cohort, and the real ``osirix-tasks batch`` command.

Expected values are computed here from the DICOM files with pydicom and numpy, never taken from our
own output.
"""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.testing import RunningHost, running_host
from osirix_tasks.testing.cohort import CohortSeries, write_cohort
from tests.batch.dask_cluster import Cluster, two_workers

pytestmark = pytest.mark.slow

TASKS = '''
import time

from osirixgrpc import viewercontroller_pb2

from osirix_tasks import osirix_task


@osirix_task(type="Image", name="Cohort stats")
def cohort_stats(context):
    """Mean and maximum of the target series' pixels (all slices)."""
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=context.viewer, movie_idx=0)
    pixes = list(context.connection.call("ViewerControllerPixList", request).pix)
    volume = context.connection.volume(pixes)
    if context.args:
        time.sleep(float(context.args[0]))
    print(f"mean {float(volume.mean()):.6f} max {float(volume.max()):.1f}")
    return {"mean": float(volume.mean()), "max": float(volume.max()), "slices": len(pixes)}
'''

PIXEL_TASK = '''

@osirix_task(type="Image", name="Shipped mean", pixels=True)
def shipped_mean(context):
    """Works on its series' pixels alone (shipped with the item, or read by the context hook)."""
    mean = float(context.volume.mean())
    print(f"volume mean {mean:.6f}")
    return {"mean": mean, "planes": int(context.volume.shape[0]), "spacing": float(context.extras["spacing"][0]),
            "connected": context.connection is not None}
'''

SLEEPER = """
import os
import subprocess
import sys
import time

child = subprocess.Popen(["sleep", "300"])
open(os.path.join(sys.argv[1], f"{os.getpid()}-{child.pid}"), "w").close()
time.sleep(300)
"""

SCRIPT = """
import json
import osirix_tasks

context = osirix_tasks.context()
print("looking at", context.target.series)
print(json.dumps({"series": context.series[0].osirixrpc_uid != "", "studies": len(context.studies)}))
"""


def expected(series: CohortSeries) -> tuple[float, float]:
    """Mean and maximum of the series, read with pydicom (rescale applied), computed with numpy."""
    planes = []
    for path in series.files:
        ds = pydicom.dcmread(path)
        planes.append(ds.pixel_array.astype(np.float64) * float(ds.RescaleSlope) + float(ds.RescaleIntercept))
    volume = np.stack(planes)
    return float(volume.mean()), float(volume.max())


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[CohortSeries]]:
    folder = tmp_path_factory.mktemp("cohort")
    return folder, write_cohort(folder, studies=8, series_per_study=3, slices=3, size=32)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    (folder / "cohort_tasks.py").write_text(TASKS + PIXEL_TASK)
    (folder / "series_script.py").write_text(SCRIPT)
    (folder / "sleeper.py").write_text(SLEEPER)
    (folder / "tasks.toml").write_text(
        '[settings]\nmodules = ["cohort_tasks"]\n\n'
        '[[task]]\nname = "Series script"\ntype = "Database"\nlocation = "series_script.py"\n\n'
        '[[task]]\nname = "Sleeper"\ntype = "Database"\nlocation = "sleeper.py"\n'
    )
    return folder / "tasks.toml"


@pytest.fixture(scope="module")
def cohort_host(
    tmp_path_factory: pytest.TempPathFactory, cohort: tuple[Path, list[CohortSeries]]
) -> Iterator[RunningHost]:
    home = tmp_path_factory.mktemp("home")
    with running_host(home, "--empty", "--import", str(cohort[0]), "--no-web") as host:
        yield host


@pytest.fixture(scope="module")
def cluster(cohort_host: RunningHost) -> Iterator[Cluster]:
    with two_workers(cohort_host.env()) as cluster:
        yield cluster


def _store(host: RunningHost) -> Path:
    found = list(host.home.rglob("runs.sqlite"))
    assert found, "no run store yet"
    return found[0]


def _batch_state(host: RunningHost) -> dict:
    result = host.cli("batch", "show", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _latest(host: RunningHost) -> str | None:
    result = host.cli("batch", "list", "--json")
    found = json.loads(result.stdout) if result.returncode == 0 else []
    return found[0]["id"] if found else None


def _wait_done(
    host: RunningHost, at_least: int, process: subprocess.Popen[bytes], previous: str | None, seconds: float = 120
) -> None:
    """Wait until the new batch (not ``previous``) has ``at_least`` items succeeded."""
    from osirix_tasks.batch.records import BatchRecords
    from osirix_tasks.run.store import RunStore

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "the batch ended before the test could act mid-batch"
        try:
            records = BatchRecords(RunStore(_store(host)))
            latest = records.get()
            records.store.close()
            if latest.id != previous and latest.counts.get("succeeded", 0) >= at_least:
                return
        except Exception:  # noqa: BLE001 - the store or the batch is not there yet
            pass
        time.sleep(0.1)
    raise AssertionError(f"fewer than {at_least} items succeeded within {seconds} s")


def _results(host: RunningHost, batch_id: str | None = None) -> list[dict[str, str]]:
    result = host.cli("batch", "results", *([batch_id] if batch_id else []), "--csv")
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def _start_batch(host: RunningHost, registry: Path, cluster: Cluster, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "osirix_tasks", "--registry", str(registry), "batch", "Cohort stats"]
    command += ["--where", "images>=1", "--server", host.address, "--scheduler", cluster.address, "--quiet", *extra]
    return subprocess.Popen(command, env=host.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_worker_killed_mid_batch_its_items_finish_elsewhere_and_the_table_is_right(
    cohort_host: RunningHost, cluster: Cluster, project: Path, cohort: tuple[Path, list[CohortSeries]]
) -> None:
    series = cohort[1]
    previous = _latest(cohort_host)
    process = _start_batch(cohort_host, project, cluster, "--arg", "0.25")
    _wait_done(cohort_host, 4, process, previous)
    cluster.kill("w1")  # mid-batch: the rest must finish on w2
    out, err = process.communicate(timeout=240)
    assert process.returncode == 0, err.decode()

    state = _batch_state(cohort_host)
    assert state["batch"]["status"] == "succeeded"
    assert state["batch"]["total"] == len(series) >= 20
    workers = {item["worker"] for item in state["items"]}
    assert len(workers) == 2  # items ran on both workers before and after the kill

    rows = _results(cohort_host)
    assert len(rows) == len(series)
    by_uid = {row["series_uid"]: row for row in rows}
    assert set(by_uid) == {s.series_uid for s in series}
    for s in series:
        row = by_uid[s.series_uid]
        mean, top = expected(s)
        assert row["status"] == "succeeded"
        assert (row["patient_id"], row["study_uid"], row["modality"]) == (s.patient_id, s.study_uid, s.modality)
        assert float(row["mean"]) == pytest.approx(mean, rel=1e-5), s.series_uid
        assert float(row["max"]) == pytest.approx(top)
        assert int(row["slices"]) == len(s.files)
    cluster.add_worker("w1")  # the next test has two workers again
    cluster.wait_for_workers(2)


def test_the_driver_killed_mid_batch_resume_runs_only_the_missing_items(
    cohort_host: RunningHost, cluster: Cluster, project: Path, cohort: tuple[Path, list[CohortSeries]]
) -> None:
    previous = _latest(cohort_host)
    process = _start_batch(cohort_host, project, cluster, "--arg", "0.3")
    _wait_done(cohort_host, 6, process, previous)
    process.send_signal(signal.SIGKILL)  # the host of the batch stops without a word
    process.wait()
    before = _batch_state(cohort_host)
    assert before["batch"]["status"] == "interrupted"
    done_before = {i["index"]: i["run_id"] for i in before["items"] if i["status"] == "succeeded"}
    assert 6 <= len(done_before) < len(before["items"])

    resumed = cohort_host.cli("--registry", str(project), "batch", "resume", before["batch"]["id"], "--quiet")
    assert resumed.returncode == 0, resumed.stderr

    after = _batch_state(cohort_host)
    assert after["batch"]["status"] == "succeeded"
    for item in after["items"]:
        assert item["status"] == "succeeded"
        if item["index"] in done_before:  # not run again
            assert item["run_id"] == done_before[item["index"]]
            assert item["attempts"] == 1
        else:
            assert item["attempts"] >= 2 or item["run_id"] not in done_before.values()
    rows = _results(cohort_host, before["batch"]["id"])
    assert len(rows) == len(cohort[1])
    for s in cohort[1]:
        row = next(r for r in rows if r["series_uid"] == s.series_uid)
        assert float(row["mean"]) == pytest.approx(expected(s)[0], rel=1e-5)


def test_a_script_task_record_is_its_last_json_line(cohort_host: RunningHost, cluster: Cluster, project: Path) -> None:
    result = cohort_host.cli(
        "--registry",
        str(project),
        "batch",
        "Series script",
        "--where",
        "modality=CT",
        "--server",
        cohort_host.address,
        "--scheduler",
        cluster.address,
        "--quiet",
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(cohort_host.cli("batch", "results", "--json").stdout)
    assert len(rows) == 8
    assert all(r["modality"] == "CT" and r["series"] is True and r["studies"] == 0 for r in rows)
    output = cohort_host.cli("console", rows[0]["run_id"]).stdout
    assert f"looking at {rows[0]['series_uid']}" in output


def test_the_same_task_gives_the_same_result_from_a_menu_click_and_in_a_batch(
    cohort_host: RunningHost, project: Path, cohort: tuple[Path, list[CohortSeries]]
) -> None:
    batches = json.loads(cohort_host.cli("batch", "list", "--json").stdout)
    stats = next(b["id"] for b in batches if b["task_name"] == "Cohort stats" and b["status"] == "succeeded")
    rows = {r["series_uid"]: r for r in _results(cohort_host, stats)}
    target = cohort[1][4]
    assert cohort_host.cli("open", target.series_uid).returncode == 0  # what a user does before a click
    click = cohort_host.cli("--registry", str(project), "run", "Cohort stats", "--server", cohort_host.address)
    assert click.returncode == 0, click.stderr
    mean = float(click.stdout.split("mean ")[1].split()[0])
    assert mean == pytest.approx(float(rows[target.series_uid]["mean"]), rel=1e-6)


def test_an_unreachable_scheduler_is_a_clear_error(cohort_host: RunningHost, project: Path) -> None:
    result = cohort_host.cli(
        "--registry",
        str(project),
        "batch",
        "Cohort stats",
        "--where",
        "modality=CT",
        "--server",
        cohort_host.address,
        "--scheduler",
        f"tcp://127.0.0.1:{free_port()}",
        "--quiet",
        timeout=120,
    )
    assert result.returncode == 1
    assert "no Dask scheduler answers at tcp://127.0.0.1:" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("ship", [True, False], ids=["shipped", "read-on-the-worker"])
def test_a_pixels_task_gets_its_pixels_shipped_or_read_on_a_local_worker(
    cohort_host: RunningHost, cluster: Cluster, project: Path, cohort: tuple[Path, list[CohortSeries]], ship: bool
) -> None:
    result = cohort_host.cli(
        "--registry", str(project), "batch", "Shipped mean", "--where", "modality=CT", "--server",
        cohort_host.address, "--scheduler", cluster.address, *(["--ship-pixels"] if ship else []), "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {r["series_uid"]: r for r in json.loads(cohort_host.cli("batch", "results", "--json").stdout)}
    ct = [s for s in cohort[1] if s.modality == "CT"]
    assert set(rows) == {s.series_uid for s in ct}
    for s in ct:
        assert rows[s.series_uid]["mean"] == pytest.approx(expected(s)[0], rel=1e-5)
        assert rows[s.series_uid]["planes"] == len(s.files)
        assert rows[s.series_uid]["spacing"] == 1.0
        assert rows[s.series_uid]["connected"] is not ship  # shipped: the task needs no connection at all


def test_a_pixels_task_run_on_a_series_gets_its_volume(
    cohort_host: RunningHost, project: Path, cohort: tuple[Path, list[CohortSeries]]
) -> None:
    target = cohort[1][2]
    result = cohort_host.cli(
        "--registry", str(project), "run", "Shipped mean", "--series", target.series_uid, "--server",
        cohort_host.address,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert float(result.stdout.split("volume mean ")[1].split()[0]) == pytest.approx(expected(target)[0], rel=1e-5)


def test_ctrl_c_stops_every_item_with_its_whole_process_group(
    cohort_host: RunningHost, cluster: Cluster, project: Path, tmp_path: Path
) -> None:
    command = [sys.executable, "-m", "osirix_tasks", "--registry", str(project), "batch", "Sleeper", "--where",
               "modality=CT", "--server", cohort_host.address, "--scheduler", cluster.address, "--arg",
               str(tmp_path), "--quiet"]  # fmt: skip
    process = subprocess.Popen(command, env=cohort_host.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(list(tmp_path.iterdir())) < 2 and time.monotonic() < deadline:  # one item on each worker
        time.sleep(0.1)
    started = [tuple(int(n) for n in p.name.split("-")) for p in tmp_path.iterdir()]
    assert len(started) == 2
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err.decode()
    for script, sleeper in started:  # the script and the process it started: both gone
        for pid in (script, sleeper):
            assert not _alive(pid), f"pid {pid} outlived the cancel"
    state = _batch_state(cohort_host)
    assert state["batch"]["status"] == "cancelled"
    assert {i["status"] for i in state["items"]} == {"cancelled"}


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
