"""Each builtin task type run from the CLI against the embedded OsiriX, its effect checked through
the client and its output in the console store; the connected context for scripts and plugins."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
from osirixgrpc import dcmpix_pb2, utilities_pb2, viewercontroller_pb2

from osirix_tasks.builtin.smoothing import gaussian_smooth
from osirix_tasks.client import Connection
from osirix_tasks.emulator.database.demo import _uid as demo_uid
from osirix_tasks.testing import RunningHost

VC = viewercontroller_pb2
EMPTY = utilities_pb2.Empty()


def cli(host: RunningHost, *args: str, registry: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = host.env()
    if registry is not None:
        env["OSIRIX_TASKS_REGISTRY"] = str(registry)
    return subprocess.run(
        [sys.executable, "-m", "osirix_tasks", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=host.home,
    )


def last_output(host: RunningHost) -> dict:  # type: ignore[type-arg]
    return json.loads(cli(host, "console", "--json").stdout)  # type: ignore[no-any-return]


def stdout_of(output: dict) -> str:  # type: ignore[type-arg]
    return "".join(c["text"] for c in output["output"] if c["stream"] == "stdout")


def test_database_task_reports_the_selection(host: RunningHost) -> None:
    assert cli(host, "select", "--study", demo_uid("study")).returncode == 0
    done = cli(host, "run", "Selection report")
    assert done.returncode == 0, done.stderr
    output = last_output(host)
    assert output["run"]["status"] == "succeeded" and output["run"]["server"] == f"127.0.0.1:{host.ports[0]}"
    assert "Study: 'Demo Brain Phantom' - patient 'Demo Phantom' - 1 series, 24 images" in stdout_of(output)


def test_image_task_needs_a_viewer_then_smooths_the_pixels(host: RunningHost) -> None:
    with Connection(host.ports[0]) as connection:
        for viewer in connection.call("OsirixDisplayed2DViewers", EMPTY).viewer_controllers:
            connection.call("ViewerControllerCloseViewer", viewer)
        refused = cli(host, "run", "Gaussian smooth")
        assert refused.returncode == 3
        assert "works on the frontmost 2D viewer and none is open - open a series" in refused.stderr
        assert cli(host, "open", demo_uid("series")).returncode == 0
        viewer = connection.call("OsirixFrontmostViewer", EMPTY).viewer_controller
        connection.call("ViewerControllerSetIdx", VC.ViewerControllerSetIdxRequest(viewer_controller=viewer, idx=12))
        pix = connection.call("ViewerControllerCurDCM", viewer).pix
        before = connection.pixels(pix)
        done = cli(host, "run", "Gaussian smooth", "--", "2.5")
        assert done.returncode == 0, done.stderr
        after = connection.pixels(pix)
        assert after.tobytes() == gaussian_smooth(before, 2.5).tobytes()
        assert "Smoothed a 128x128 slice with sigma 2.5 px" in stdout_of(last_output(host))


def test_roi_task_prints_the_statistics_of_the_selected_rois(host: RunningHost) -> None:
    with Connection(host.ports[0]) as connection:
        assert cli(host, "open", demo_uid("series")).returncode == 0
        viewer = connection.call("OsirixFrontmostViewer", EMPTY).viewer_controller
        refused = cli(host, "run", "ROI statistics")
        assert refused.returncode == 3 and "none is selected in the frontmost viewer" in refused.stderr
        roi = connection.call(
            "ViewerControllerNewROI",
            VC.ViewerControllerNewROIRequest(
                viewer_controller=viewer,
                itype=6,
                name="box",
                idx=0,
                rectangle=VC.ViewerControllerNewROIRequest.Rect(origin_x=30, origin_y=40, width=20, height=10),
            ),
        ).roi
        assert cli(host, "select", "--roi", "box").returncode == 0
        done = cli(host, "run", "ROI statistics")
        assert done.returncode == 0, done.stderr
        pix = connection.call("ROIPix", roi).pix
        stats = connection.call("DCMPixComputeROI", dcmpix_pb2.DCMPixComputeROIRequest(pix=pix, roi=roi))
        image = connection.pixels(pix)[40:50, 30:50].astype(np.float64)
        assert np.isclose(stats.mean, image.mean())
        printed = stdout_of(last_output(host))
        assert f"ROI 'box': area {200 * 1.5 * 1.5 / 100:.4f} cm2, mean {stats.mean:.4f}" in printed


def test_vr_task_switches_the_rendering_mode(host: RunningHost) -> None:
    with Connection(host.ports[0]) as connection:
        assert cli(host, "open", demo_uid("series")).returncode == 0
        viewer = connection.call("OsirixFrontmostViewer", EMPTY).viewer_controller
        vr = connection.call(
            "ViewerControllerOpenVRViewerForMode",
            VC.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=viewer, mode="VR"),
        ).vr_controller
        assert cli(host, "run", "Toggle VR/MIP").returncode == 0
        assert connection.call("VRControllerRenderingMode", vr).rendering_mode == "MIP"
        assert cli(host, "run", "Toggle VR/MIP").returncode == 0
        assert connection.call("VRControllerRenderingMode", vr).rendering_mode == "VR"
        assert "Rendering mode: MIP -> VR" in stdout_of(last_output(host))


def test_script_tasks_get_the_same_context_in_one_call(host: RunningHost, tmp_path: Path) -> None:
    script = tmp_path / "count.py"
    script.write_text(
        textwrap.dedent("""
        import osirix_tasks

        context = osirix_tasks.context()
        studies = context.connection.call("BrowserControllerDatabaseStudies", context.browser).studies
        print(f"{context.task.name} ({context.task.type.value}) on {context.server}: {len(studies)} study, "
              f"{len(context.studies)} selected")
        print("pyosirix:", context.pyosirix().osirix_version()[0])
    """)
    )
    registry = tmp_path / "tasks.toml"
    registry.write_text(f'[[task]]\nname = "Count"\ntype = "Database"\nlocation = "{script}"\n')
    assert cli(host, "select", "--study", demo_uid("study")).returncode == 0
    done = cli(host, "run", "Count", registry=registry)
    assert done.returncode == 0, done.stderr
    assert f"Count (Database) on 127.0.0.1:{host.ports[0]}: 1 study, 1 selected" in done.stdout
    assert "pyosirix: osirix-tasks" in done.stdout


def test_plugins_fill_the_context_and_wrap_the_run(host: RunningHost, tmp_path: Path) -> None:
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "wrap.py").write_text(
        textwrap.dedent("""
        from osirix_tasks import hookimpl, osirix_task

        @osirix_task(type="Database", name="Uses extras")
        def uses_extras(context):
            print("body sees", context.extras["greeting"])
            raise ValueError("task went wrong")

        @hookimpl
        def osirix_tasks_register_tasks():
            return [uses_extras]

        @hookimpl
        def osirix_tasks_context(context, task):
            context.extras["greeting"] = f"hello {task.name}"

        @hookimpl(wrapper=True)
        def osirix_tasks_run_task(context, task, function):
            print("before")
            try:
                return (yield)
            finally:
                print("after")
    """)
    )
    registry = tmp_path / "tasks.toml"
    registry.write_text("")
    done = cli(host, "run", "Uses extras", registry=registry)
    assert done.returncode == 1
    assert done.stdout.split("\n")[:3] == ["before", "body sees hello Uses extras", "after"]
    assert "task 'Uses extras' (Database) failed: ValueError: task went wrong" in done.stderr
