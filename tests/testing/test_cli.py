"""State commands: ``db studies|series``, ``roi list|add|select|deselect|delete``, ``open --3d``, with --server.

They run in-process against the kit's session-wide embedded OsiriX (the ``osirix`` fixture, reset
before each test); expected values come from the demo files read with pydicom and from numpy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from click.testing import CliRunner, Result
from osirixgrpc import dcmpix_pb2, utilities_pb2

from osirix_tasks.cli import cli
from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.testing import OsirixSession

EMPTY = utilities_pb2.Empty()


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> list[pydicom.Dataset]:
    """The demo series as DICOM datasets, generated here and read with pydicom."""
    paths = generate_demo_series(tmp_path_factory.mktemp("demo"))
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]


@pytest.fixture
def run(osirix: OsirixSession) -> Callable[..., Result]:
    """``run(*args)``: the CLI in-process, where it finds the session's OsiriX (its home), with
    ``--server PORT`` added unless ``server=False``."""
    runner = CliRunner()

    def call(*args: str, server: bool = True) -> Result:
        extra = ["--server", str(osirix.port)] if server else []
        return runner.invoke(cli, [*args, *extra], env=osirix.env(), catch_exceptions=False)

    return call


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- db --------------------------------------------------------------------------------------


def test_db_studies_and_series_list_the_files_with_their_uids(
    run: Callable[..., Result], demo_files: list[pydicom.Dataset]
) -> None:
    first = demo_files[0]

    [study] = as_json(run("db", "studies", "--json"))
    [series] = as_json(run("db", "series", str(first.StudyInstanceUID), "--json"))

    assert study["study_instance_uid"] == first.StudyInstanceUID
    assert study["patient_name"] == str(first.PatientName).replace("^", " ")  # as OsiriX shows names
    assert (study["patient_id"], study["images"], study["series"]) == (first.PatientID, len(demo_files), 1)
    assert study["modalities"] == first.Modality
    # OsiriX's series identifier for an MR series with an echo time: UID + " TE-<echo time>"
    assert series["series_instance_uid"] == f"{first.SeriesInstanceUID} TE-{first.EchoTime}"
    assert (series["description"], series["modality"]) == (first.SeriesDescription, first.Modality)
    assert (series["images"], series["study_instance_uid"]) == (len(demo_files), first.StudyInstanceUID)
    assert as_json(run("db", "series", "--json")) == [series]
    text = run("db", "studies").stdout + run("db", "series").stdout
    assert str(first.StudyInstanceUID) in text and series["series_instance_uid"] in text


def test_db_series_of_an_unknown_study_says_so(run: Callable[..., Result]) -> None:
    result = run("db", "series", "1.2.3.4")

    assert result.exit_code == 1
    assert "no study with StudyInstanceUID 1.2.3.4" in result.stderr and "osirix-tasks db studies" in result.stderr


def test_db_without_a_server_says_how_to_start_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "studies", "--server", "1"], catch_exceptions=False)

    assert result.exit_code == 1
    assert "cannot reach OsiriX at 127.0.0.1:1" in result.stderr


# --- roi -------------------------------------------------------------------------------------


def test_roi_add_draws_each_kind_where_it_was_asked(
    run: Callable[..., Result], osirix: OsirixSession, osirix_viewer: Any, demo_files: list[pydicom.Dataset]
) -> None:
    spacing = float(demo_files[0].PixelSpacing[0]) * float(demo_files[0].PixelSpacing[1])
    for args in (
        ["--type", "rectangle", "--name", "rect", "--box", "10", "20", "30", "40"],
        ["--type", "oval", "--name", "oval", "--box", "40", "50", "60", "30"],
        ["--type", "polygon", "--name", "tri", "--point", "0", "0", "--point", "12", "0", "--point", "0", "9"],
        ["--type", "point", "--name", "pt", "--point", "7", "8"],
        ["--type", "mask", "--name", "block", "--box", "100", "90", "5", "4"],
    ):
        assert run("roi", "add", *args).exit_code == 0

    rois = {r["name"]: r for r in as_json(run("roi", "list", "--json"))}

    shown = osirix.call("ViewerControllerIdx", osirix_viewer).idx
    assert {r["slice"] for r in rois.values()} == {shown}
    # the types as OsiriX's ROI toolbar names them (Horos ViewerController.m -imageForROI:)
    assert [rois[n]["type"] for n in ("rect", "oval", "tri", "pt", "block")] == [
        "Rectangle",
        "Oval",
        "Closed Polygon",
        "Point",
        "Brush",
    ]
    assert rois["rect"]["centroid"] == pytest.approx([10, 20])  # Horos ROI.m -centroid: a rectangle's rect origin
    assert rois["rect"]["area_cm2"] == pytest.approx(30 * 40 * spacing / 100)
    assert rois["oval"]["centroid"] == pytest.approx([70, 65], abs=0.5)
    assert rois["oval"]["area_cm2"] == pytest.approx(np.pi * 30 * 15 * spacing / 100, rel=0.02)
    assert rois["tri"]["centroid"] == pytest.approx([4, 3])  # the mean of the vertices
    assert rois["pt"]["centroid"] == pytest.approx([7, 8])
    assert rois["block"]["area_cm2"] == pytest.approx(5 * 4 * spacing / 100)
    assert not any(r["selected"] for r in rois.values())


def test_roi_add_places_a_numpy_mask_at_the_box_corner(
    run: Callable[..., Result], osirix: OsirixSession, osirix_viewer: Any, tmp_path: Path
) -> None:
    pattern = np.array([[1, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 0]], dtype=np.uint8)
    np.save(tmp_path / "mask.npy", pattern)

    added = run("roi", "add", "--type", "mask", "--npy", str(tmp_path / "mask.npy"), "--box", "10", "20", "1", "1")

    assert added.exit_code == 0, added.output
    [roi] = osirix.rois()
    pix = osirix.call("ROIPix", roi.ref).pix
    shape = osirix.call("DCMPixShape", pix)
    answer = osirix.call("DCMPixGetMapFromROI", dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=pix, roi=roi.ref))
    expected = np.zeros((shape.rows, shape.columns), dtype=bool)
    expected[20:23, 10:14] = pattern.astype(bool)
    np.testing.assert_array_equal(np.asarray(answer.map, dtype=bool).reshape(shape.rows, shape.columns), expected)


def selected_names(osirix: OsirixSession, viewer: Any) -> list[str]:
    return sorted(osirix.call("ROIName", r).name for r in osirix.call("ViewerControllerSelectedROIs", viewer).rois)


def test_roi_select_deselect_and_delete(run: Callable[..., Result], osirix: OsirixSession, osirix_viewer: Any) -> None:
    assert run("roi", "add", "--type", "oval", "--name", "a", "--box", "5", "5", "10", "10", "--select").exit_code == 0
    assert run("roi", "add", "--type", "rectangle", "--name", "b", "--box", "30", "30", "10", "10").exit_code == 0
    assert selected_names(osirix, osirix_viewer) == ["a"]

    assert run("roi", "select", "b").exit_code == 0
    assert selected_names(osirix, osirix_viewer) == ["b"]
    assert "deselected 1 ROI(s)" in run("roi", "deselect").stdout
    assert selected_names(osirix, osirix_viewer) == []
    run("roi", "select", "b")
    assert "deleted 1 selected ROI(s)" in run("roi", "delete").stdout
    assert [r["name"] for r in as_json(run("roi", "list", "--json"))] == ["a"]
    assert "deleted 1 ROI(s) named 'a'" in run("roi", "delete", "a").stdout
    assert "deleted 0 ROI(s)" in run("roi", "delete", "--all").stdout
    assert "No ROIs" in run("roi", "list").stdout


def test_roi_commands_explain_what_is_wrong(run: Callable[..., Result], osirix: OsirixSession) -> None:
    no_viewer = run("roi", "list")
    assert no_viewer.exit_code == 1 and "no 2D viewer is open" in no_viewer.stderr
    osirix.open_viewer()
    osirix.draw_roi(name="only one")

    cases = {
        ("roi", "add", "--type", "polygon", "--point", "1", "1", "--point", "2", "2"): "at least 3 --point X Y, got 2",
        ("roi", "add", "--type", "oval"): "needs --box X Y WIDTH HEIGHT",
        ("roi", "add", "--type", "rectangle", "--box", "1", "1", "0", "5"): "width and height must be positive",
        ("roi", "add", "--type", "point"): "exactly one --point X Y, got 0",
        ("roi", "select", "ghost"): "no ROI named 'ghost' in the frontmost viewer (its ROIs: 'only one')",
    }
    for args, message in cases.items():
        result = run(*args)
        assert result.exit_code == 1 and message in result.stderr, (args, result.output)
    elsewhere = CliRunner().invoke(cli, ["roi", "select", "x", "--server", "1"], env=osirix.env())
    assert elsewhere.exit_code == 1 and "no embedded OsiriX of osirix-tasks serves port 1" in elsewhere.stderr


# --- open --3d -------------------------------------------------------------------------------


def test_open_with_3d_opens_a_viewer_and_its_3d_window(run: Callable[..., Result], osirix: OsirixSession) -> None:
    series_uid = osirix.series()[0].series_instance_uid

    both = run("open", series_uid, "--3d", "mip")
    only_3d = run("open", "--3d", "VR")

    assert both.exit_code == 0 and only_3d.exit_code == 0, both.output + only_3d.output
    assert "opened a MIP window: 3D Reconstruction:" in both.stdout
    viewers = osirix.call("OsirixDisplayed2DViewers", EMPTY).viewer_controllers
    windows = osirix.call("OsirixDisplayedVRControllers", EMPTY).vr_controllers
    assert len(viewers) == 1
    # OsiriX reuses a viewer's 3D window (the plugin's OpenVRViewerForMode): the second --3d switches its mode
    assert [osirix.call("VRControllerRenderingMode", w).rendering_mode for w in windows] == ["VR"]
    assert all(osirix.call("VRControllerViewer2D", w).viewer_controller == viewers[0] for w in windows)


def test_open_needs_something_to_open(run: Callable[..., Result]) -> None:
    nothing = run("open")
    unknown_mode = run("open", "--3d", "XR")
    no_viewer = run("open", "--3d", "VR")

    assert nothing.exit_code == 2 and "say what to open" in nothing.stderr
    assert unknown_mode.exit_code == 2 and "'XR' is not one of" in unknown_mode.stderr
    assert no_viewer.exit_code == 1 and "no 2D viewer is open" in no_viewer.stderr
