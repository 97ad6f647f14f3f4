"""The pytest fixtures osirix-tasks ships (osirix_tasks/testing/pytest_plugin.py), used here as an author would.

They come from the ``pytest11`` entry point of the installed package, not from tests/conftest.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from osirixgrpc import dcmpix_pb2, utilities_pb2, viewercontroller_pb2

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.errors import OsirixError, OsirixTasksError
from osirix_tasks.testing import DEFAULT_ROI_NAME, OsirixSession

EMPTY = utilities_pb2.Empty()
IN_MEMORY = {"ViewerController", "DCMPix", "ROI", "VRController", "ROIVolume"}


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> list[pydicom.Dataset]:
    """The demo series as DICOM datasets, generated here and read with pydicom (the independent view)."""
    paths = generate_demo_series(tmp_path_factory.mktemp("demo"))
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]


def cached_kinds(osirix: OsirixSession) -> dict[str, str]:
    """uid -> the plugin's type name, for every uid the host's cache holds."""
    uids = osirix.call("OsirixCacheUids", EMPTY).uids
    return {uid: osirix.call("OsirixCacheObjectForUid", _uid_request(uid)).object_type for uid in uids}


def _uid_request(uid: str) -> Any:
    from osirixgrpc import osirix_pb2

    return osirix_pb2.OsirixCacheObjectForUidRequest(uid=uid)


def displayed(osirix: OsirixSession) -> tuple[int, int]:
    """(2D viewers, 3D windows) open."""
    viewers = osirix.call("OsirixDisplayed2DViewers", EMPTY).viewer_controllers
    vrs = osirix.call("OsirixDisplayedVRControllers", EMPTY).vr_controllers
    return len(viewers), len(vrs)


def selection(osirix: OsirixSession) -> tuple[list[str], list[str]]:
    """The browser selection as StudyInstanceUIDs and series identifiers."""
    browser = osirix.call("OsirixCurrentBrowser", EMPTY).browser_controller
    chosen = osirix.call("BrowserControllerDatabaseSelection", browser)
    studies = [osirix.call("DicomStudyStudyInstanceUID", s).study_instance_uid for s in chosen.studies]
    series = [osirix.call("DicomSeriesSeriesInstanceUID", s).series_instance_uid for s in chosen.series]
    return studies, series


# --- the reset -------------------------------------------------------------------------------


def test_reset_closes_everything_and_forgets_every_uid_without_a_restart(osirix_host: OsirixSession) -> None:
    osirix = osirix_host
    osirix.reset()
    loaded_selection = selection(osirix)
    pid = osirix.host.process.pid
    study = osirix.studies()[0]
    # mess it up: two viewers (one 2-frame), ROIs on both, two 3D windows, another selection
    first = osirix.open_viewer()
    second = osirix.open_viewer(frames=2)
    osirix.draw_roi("oval", name="a", viewer=first)
    osirix.draw_roi("rectangle", name="b", viewer=second, box=(1, 1, 5, 5))
    roi = osirix.draw_roi("point", name="c", viewer=second, points=[(3, 3)], select=True)
    vr = osirix.open_3d("MIP", first)
    osirix.open_3d("VR", second)
    pix = osirix.call("ViewerControllerCurDCM", first).pix
    osirix.select(series=[osirix.series()[0].series_instance_uid])
    assert displayed(osirix) == (2, 2)
    assert IN_MEMORY & set(cached_kinds(osirix).values())

    summary = osirix.reset()

    assert summary == {"viewers": 2, "vr_controllers": 2, "rois": 3, "forgotten_uids": summary["forgotten_uids"]}
    assert displayed(osirix) == (0, 0)
    for rpc, ref, kind in (
        ("ViewerControllerTitle", first, "ViewerController"),
        ("ROIName", roi, "ROI"),
        ("DCMPixShape", pix, "DCMPix"),
        ("VRControllerTitle", vr, "VRController"),
    ):
        with pytest.raises(OsirixError, match=f"No {kind} cached"):
            osirix.call(rpc, ref)
    with pytest.raises(OsirixError, match="No ViewerController active"):
        osirix.call("OsirixFrontmostViewer", EMPTY)
    with pytest.raises(OsirixError, match="No VRController active"):
        osirix.call("OsirixFrontmostVRController", EMPTY)
    assert not IN_MEMORY & set(cached_kinds(osirix).values())
    assert selection(osirix) == loaded_selection
    # the same process, and the database's objects keep their uids
    assert osirix.host.process.pid == pid and osirix.host.process.poll() is None
    assert osirix.call("DicomStudyStudyInstanceUID", study.ref).study_instance_uid == study.study_instance_uid
    assert osirix.last_reset_seconds is not None and osirix.last_reset_seconds < 1.0


def test_each_test_starts_from_the_loaded_state_part_1(osirix: OsirixSession) -> None:
    assert displayed(osirix) == (0, 0)
    osirix.open_viewer()
    osirix.draw_roi(select=True)
    osirix.open_3d()
    assert displayed(osirix) == (1, 1)


def test_each_test_starts_from_the_loaded_state_part_2(osirix: OsirixSession) -> None:
    assert displayed(osirix) == (0, 0)  # what part 1 left open is gone


# --- the state fixtures ----------------------------------------------------------------------


def test_osirix_viewer_shows_the_middle_of_the_demo_series(
    osirix: OsirixSession, osirix_viewer: Any, demo_files: list[pydicom.Dataset]
) -> None:
    assert osirix.call("OsirixFrontmostViewer", EMPTY).viewer_controller == osirix_viewer
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=osirix_viewer, movie_idx=0)
    planes = osirix.call("ViewerControllerPixList", request).pix
    assert len(planes) == len(demo_files)
    assert osirix.call("ViewerControllerIdx", osirix_viewer).idx == len(demo_files) // 2
    title = osirix.call("ViewerControllerTitle", osirix_viewer).title
    assert title.startswith(str(demo_files[0].SeriesDescription))


def test_osirix_roi_is_a_selected_oval_over_the_middle_of_the_displayed_slice(
    osirix: OsirixSession, osirix_viewer: Any, osirix_roi: Any, demo_files: list[pydicom.Dataset]
) -> None:
    selected = osirix.call("ViewerControllerSelectedROIs", osirix_viewer).rois
    assert list(selected) == [osirix_roi]
    assert osirix.call("ROIName", osirix_roi).name == DEFAULT_ROI_NAME
    assert osirix.call("ROIIType", osirix_roi).itype == 9  # tOval
    shown = osirix.call("ViewerControllerCurDCM", osirix_viewer).pix
    assert osirix.call("ROIPix", osirix_roi).pix == shown
    rows, columns = int(demo_files[0].Rows), int(demo_files[0].Columns)
    centroid = osirix.call("ROICentroid", osirix_roi)
    assert (centroid.x, centroid.y) == pytest.approx((columns / 2, rows / 2), abs=0.5)
    spacing_rows, spacing_columns = (float(v) for v in demo_files[0].PixelSpacing)
    ellipse_cm2 = np.pi * (columns / 4) * (rows / 4) * spacing_rows * spacing_columns / 100
    assert osirix.call("ROIArea", osirix_roi).area == pytest.approx(ellipse_cm2, rel=0.02)


def test_osirix_vr_is_the_frontmost_3d_window_of_the_viewer(
    osirix: OsirixSession, osirix_viewer: Any, osirix_vr: Any
) -> None:
    assert osirix.call("OsirixFrontmostVRController", EMPTY).vr_controller == osirix_vr
    assert osirix.call("VRControllerViewer2D", osirix_vr).viewer_controller == osirix_viewer
    assert osirix.call("VRControllerRenderingMode", osirix_vr).rendering_mode == "VR"


# --- run_task --------------------------------------------------------------------------------


def test_run_task_runs_a_builtin_through_the_runner(osirix: OsirixSession, osirix_roi: Any, run_task: Any) -> None:
    pix = osirix.call("ROIPix", osirix_roi).pix
    values = np.asarray(
        osirix.call("DCMPixROIValues", dcmpix_pb2.DCMPixROIValuesRequest(pix=pix, roi=osirix_roi)).values
    )

    result = run_task("ROI statistics")

    assert result.ok, result
    assert result.status.value == "succeeded" and result.exit_code == 0
    assert result.record.server == osirix.address
    assert result.record.command[1:4] == ["-u", "-m", "osirix_tasks.run.launch"]
    assert result.stdout.startswith(f"ROI '{DEFAULT_ROI_NAME}': ")
    words = result.stdout.replace(",", "").split()
    assert float(words[words.index("mean") + 1]) == pytest.approx(values.mean(), abs=1e-3)
    assert "Task finished" in result.system
    assert result.record.id in str(result)


def test_run_task_runs_a_script_whose_pyosirix_finds_the_host_on_its_own(
    osirix: OsirixSession, osirix_viewer: Any, run_task: Any, tmp_path: Path
) -> None:
    script = tmp_path / "unmodified.py"
    script.write_text(
        textwrap.dedent("""
        import os, osirix
        print(os.environ["OSIRIX_TASKS_TASK_NAME"], osirix.osirixgrpc_port_preference())
        print(osirix.frontmost_viewer().title)
        """)
    )
    registry = tmp_path / "tasks.toml"
    registry.write_text(f'[[task]]\nname = "Plain pyosirix"\ntype = "Image"\nlocation = "{script}"\n')

    result = run_task("Plain pyosirix", registry=registry)

    assert result.ok, result
    title = osirix.call("ViewerControllerTitle", osirix_viewer).title
    assert result.stdout.splitlines() == [f"Plain pyosirix {osirix.port}", title]


def test_run_task_reports_a_failing_task_with_its_output(run_task: Any, tmp_path: Path) -> None:
    script = tmp_path / "fails.py"
    script.write_text("import sys\nprint('half way')\nsys.exit('broken on purpose')\n")
    registry = tmp_path / "tasks.toml"
    registry.write_text(f'[[task]]\nname = "Fails"\ntype = "Database"\nlocation = "{script}"\n')

    result = run_task("Fails", registry=registry)

    assert not result.ok
    assert (result.status.value, result.exit_code) == ("failed", 1)
    assert (result.stdout, result.stderr) == ("half way\n", "broken on purpose\n")


def test_run_task_passes_arguments_and_keeps_runs_in_its_own_store(run_task: Any, tmp_path: Path) -> None:
    script = tmp_path / "echo.py"
    script.write_text("import sys\nprint(sys.argv[1:])\n")
    registry = tmp_path / "tasks.toml"
    registry.write_text(f'[[task]]\nname = "Echo"\ntype = "Database"\nlocation = "{script}"\nargs = ["--fixed"]\n')

    first = run_task("Echo", "a b", "c", registry=registry)
    second = run_task("Echo", registry=registry)

    assert first.stdout == "['--fixed', 'a b', 'c']\n" and second.stdout == "['--fixed']\n"
    store_path = Path(first.record.env["HOME"])  # the task's HOME is the embedded OsiriX's home
    assert (store_path / "Library" / "Application Support" / "OsirixGRPC" / "server_configs.json").is_file()
    from osirix_tasks.run.store import store_path as user_store

    assert not user_store().exists()  # nothing went to the user's run store


def test_run_task_names_the_known_tasks_when_the_name_is_wrong(run_task: Any) -> None:
    with pytest.raises(OsirixTasksError, match=r"no task named 'No such task'.*known tasks: .*ROI statistics \(ROI\)"):
        run_task("No such task")


# --- choosing the data -----------------------------------------------------------------------


def _custom_series(folder: Path) -> str:
    """The demo series re-labelled as another patient and study; returns its StudyInstanceUID."""
    paths = generate_demo_series(folder)
    study_uid = pydicom.uid.generate_uid()
    series_uid = pydicom.uid.generate_uid()
    for index, path in enumerate(paths[:6]):
        ds = pydicom.dcmread(path)
        ds.PatientName, ds.PatientID = "Custom^Patient", "CUSTOM-1"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
        ds.save_as(folder / f"custom-{index}.dcm")
    for path in paths:
        path.unlink()
    return str(study_uid)


@pytest.mark.slow
def test_osirix_data_loads_the_authors_own_files(tmp_path: Path) -> None:
    data = tmp_path / "my dicom"
    study_uid = _custom_series(data)
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.pytest.ini_options]\nosirix_data = "../my dicom"\n')
    (project / "tests" / "test_data.py").write_text(
        textwrap.dedent(f"""
        def test_it_is_my_data(osirix, osirix_viewer):
            [study] = osirix.studies()
            assert (study.study_instance_uid, study.patient_name, study.images) == ({study_uid!r}, "Custom Patient", 6)
            assert osirix.call("ViewerControllerIdx", osirix_viewer).idx == 3
        """)
    )
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}

    def pytest_in_project(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args, "tests"]
        return subprocess.run(command, cwd=project, capture_output=True, text=True, env=env, timeout=180)

    from_ini = pytest_in_project()
    (project / "pyproject.toml").write_text("")
    from_option = pytest_in_project("--osirix-data", str(data))
    missing = pytest_in_project("--osirix-data", str(tmp_path / "nowhere"))

    assert from_ini.returncode == 0, from_ini.stdout + from_ini.stderr
    assert from_option.returncode == 0, from_option.stdout + from_option.stderr
    assert missing.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"osirix_data: {tmp_path / 'nowhere'} does not exist" in missing.stderr


@pytest.mark.slow
def test_the_tutorials_example_test_file_passes(tmp_path: Path) -> None:
    tutorial = (Path(__file__).resolve().parents[2] / "docs" / "tutorials" / "task-pack.md").read_text()
    blocks = [b.split("```", 1)[0] for b in re.split(r"```python[^\n]*\n", tutorial)[1:]]
    [example] = [b for b in blocks if b.startswith("# tests/test_roi_statistics.py")]
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_roi_statistics.py").write_text(example)

    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", "tests"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=240,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    passed = [line for line in done.stdout.splitlines() if line.startswith("PASSED ")]
    assert len(passed) == example.count("\ndef test_") == 2
