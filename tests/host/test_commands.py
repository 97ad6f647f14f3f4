"""select/open act on one named host, say which, refuse when ambiguous, and keep the selection on failure;
``run ... | head`` does not lose the run."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from osirixgrpc import viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.testing import Project, isolated_env

VC = viewercontroller_pb2


def demo_series(host: Any) -> str:
    stub = host.stub()
    browser = stub.OsirixCurrentBrowser(Empty()).browser_controller
    [study] = stub.BrowserControllerDatabaseStudies(browser).studies
    [series] = stub.DicomStudySeries(study).series
    return str(stub.DicomSeriesSeriesInstanceUID(series).series_instance_uid)


def test_open_and_select_act_on_the_named_host(start_host: Callable[..., Any], tmp_path: Path) -> None:
    with start_host("--demo", home=tmp_path) as first, start_host("--demo", home=tmp_path) as second:
        uid = demo_series(first)
        ambiguous = first.cli("open", uid)
        assert ambiguous.returncode == 1 and "several embedded OsiriX hosts" in ambiguous.stderr
        assert str(first.ports[0]) in ambiguous.stderr and str(second.ports[0]) in ambiguous.stderr
        done = first.cli("open", uid, "--server", str(second.ports[0]))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"127.0.0.1:{second.ports[0]}: opened a viewer")
        assert len(second.stub().OsirixDisplayed2DViewers(Empty()).viewer_controllers) == 1
        assert len(first.stub().OsirixDisplayed2DViewers(Empty()).viewer_controllers) == 0
        nowhere = first.cli("select", "--clear", "--server", "1")
        assert nowhere.returncode == 1 and "no embedded OsiriX of osirix-tasks serves port 1" in nowhere.stderr


def test_a_failed_roi_selection_keeps_the_selection(start_host: Callable[..., Any], tmp_path: Path) -> None:
    with start_host("--demo", home=tmp_path) as host:
        assert host.cli("open", demo_series(host)).returncode == 0
        stub = host.stub()
        viewer = stub.OsirixFrontmostViewer(Empty()).viewer_controller
        for name in ("kept", "other"):
            stub.ViewerControllerNewROI(
                VC.ViewerControllerNewROIRequest(
                    viewer_controller=viewer,
                    itype=6,
                    name=name,
                    idx=0,
                    thickness=1,
                    opacity=1,
                    color=VC.ViewerControllerNewROIRequest.Color(r=255, g=0, b=0),
                    rectangle=VC.ViewerControllerNewROIRequest.Rect(origin_x=10, origin_y=10, width=8, height=8),
                )
            )
        assert host.cli("select", "--roi", "kept").returncode == 0
        missing = host.cli("select", "--roi", "absent")
        assert missing.returncode == 1 and "no ROI named 'absent'" in missing.stderr and "'kept'" in missing.stderr
        selected = stub.ViewerControllerSelectedROIs(viewer).rois
        assert [stub.ROIName(r).name for r in selected] == ["kept"]


def test_a_closed_stdout_does_not_lose_the_run(project: Project, tmp_path: Path) -> None:
    project.script(
        "chatty",
        "import sys, time\nfor i in range(2000):\n    print('line', i)\nprint('done', file=sys.stderr)\n",
    )
    command = f"{sys.executable} -m osirix_tasks run chatty | head -n 1"
    done = subprocess.run(command, shell=True, capture_output=True, text=True, env=project.env, timeout=120)
    assert done.stdout == "line 0\n"
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
    [record] = project.runs()
    assert record["status"] == "succeeded" and record["exit_code"] == 0
    output = project.output(record["id"])
    stdout = "".join(c["text"] for c in output["output"] if c["stream"] == "stdout")
    assert stdout.count("\n") == 2000 and "line 1999" in stdout


def test_a_closed_stdout_does_not_lose_a_run_on_the_host(start_host: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    project = Project(tmp_path / "project")
    project.script("chatty", "for i in range(2000):\n    print('line', i)\n")
    with start_host("--empty", home=project.root) as host:
        env = {
            **isolated_env(project.root),
            "OSIRIX_TASKS_REGISTRY": str(project.registry),
            "OSIRIX_TASKS_SERVER": host.address,
        }
        command = f"{sys.executable} -m osirix_tasks run chatty | head -n 1"
        done = subprocess.run(command, shell=True, capture_output=True, text=True, env=env, timeout=120)
        assert done.stdout == "line 0\n" and "Traceback" not in done.stderr
        project.env = env
        record = project.wait(project.runs()[0]["id"])
        assert record["status"] == "succeeded" and record["supervisor_pid"] == host.process.pid
        assert json.dumps(project.output(record["id"])).count("line 1999") == 1


def test_ctrl_c_cancels_a_run_on_the_host(start_host: Callable[..., Any], tmp_path: Path) -> None:
    import signal
    import time

    (tmp_path / "project").mkdir()
    project = Project(tmp_path / "project")
    project.script("sleeper", "import time\nprint('started', flush=True)\ntime.sleep(120)\n")
    with start_host("--empty", home=project.root) as host:
        project.env["OSIRIX_TASKS_SERVER"] = host.address
        process = subprocess.Popen(
            [sys.executable, "-m", "osirix_tasks", "run", "sleeper"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=project.env,
        )
        assert process.stdout is not None
        assert process.stdout.readline() == "started\n"
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 130
        [record] = project.runs()
        assert record["status"] == "cancelled" and record["supervisor_pid"] == host.process.pid


def test_a_dead_warm_launcher_does_not_lose_the_run(start_host: Callable[..., Any], tmp_path: Path) -> None:
    import time

    import psutil

    (tmp_path / "project").mkdir()
    project = Project(tmp_path / "project")
    (project.root / "warm_mod.py").write_text(
        "from osirix_tasks import osirix_task\n\n@osirix_task(type='Database', name='warm')\n"
        "def warm(context):\n    print('body ran')\n"
    )
    project.registry.write_text('[[task]]\nname = "warm"\ntype = "Database"\nlocation = "warm_mod:warm"\n')
    with start_host("--demo", home=project.root) as host:
        project.env["OSIRIX_TASKS_SERVER"] = host.address
        deadline = time.monotonic() + 30
        waiting: list[psutil.Process] = []
        while not waiting and time.monotonic() < deadline:
            waiting = [p for p in psutil.Process(host.process.pid).children() if "--warm" in p.cmdline()]
            time.sleep(0.1)
        assert waiting, "the host keeps no warm launcher"
        for process in waiting:  # the host's child: it stays a zombie until the host looks at it
            process.kill()
            while process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                time.sleep(0.05)
        done = project.cli("run", "warm")
        assert done.returncode == 0, done.stderr
        assert "body ran" in done.stdout
        [record] = project.runs()
        assert record["status"] == "succeeded" and record["supervisor_pid"] == host.process.pid
