"""The builtin 'Threshold segmentation' task and the ``save_segmentation`` API behind it: a SEG in
OsiriX's database (valid for highdicom and dciodvfy, with the right pixels) and brush ROIs in the
viewer, shown once when the series opens again."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
import pytest
from osirixgrpc import dcmpix_pb2, viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.testing import OsirixSession, osirix_session
from osirix_tasks.testing.tasks import run_task
from tests.helpers import ok


@pytest.fixture(scope="module")
def own_osirix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OsirixSession]:
    """An embedded OsiriX of this module's own: the SEG the task imports stays in its database, and
    would show on the demo series of every later test of a shared session."""
    with osirix_session(tmp_path_factory.mktemp("segmentation-home")) as session:
        yield session


def run(osirix: OsirixSession, tmp: Path, name: str, *args: str) -> Any:
    """Run a task through the real runner against ``osirix`` (as the kit's run_task does)."""
    registry = tmp / "tasks.toml"
    registry.write_text("")
    home = osirix.env()
    overlay = {k: home[k] for k in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "OSIRIX_TASKS_HOME")}
    return run_task(name, *args, server=osirix.address, registry=registry, store=tmp / "runs.sqlite", env=overlay)


def source_volume(osirix: Any, viewer: Any) -> tuple[np.ndarray, list[str]]:
    """The viewer's planes read with pydicom from their files (stored values x slope + intercept)."""
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=0)
    pixes = ok(osirix.call("ViewerControllerPixList", request)).pix
    paths = [ok(osirix.call("DCMPixSourceFile", p)).source_file for p in pixes]
    planes = []
    for path in paths:
        ds = pydicom.dcmread(path)
        planes.append(ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0)))
    return np.stack(planes), paths


def seg_in_database(osirix: Any) -> str | None:
    """The path of the study's 'Threshold segmentation' SEG, once OsiriX has imported it."""
    stub = osirix.stub
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    for study in ok(stub.BrowserControllerDatabaseStudies(browser)).studies:
        for series in ok(stub.DicomStudySeries(study)).series:
            if ok(stub.DicomSeriesSeriesDescription(series)).series_description == "Threshold segmentation":
                return str(ok(stub.DicomSeriesPaths(series)).paths[0])
    return None


def brush_masks(osirix: Any, viewer: Any) -> dict[int, np.ndarray]:
    request = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=0)
    found: dict[int, np.ndarray] = {}
    for index, plane in enumerate(ok(osirix.call("ViewerControllerROIList", request)).roi_slices):
        for roi in plane.rois:
            if ok(osirix.call("ROIIType", roi)).itype != 20:
                continue
            assert index not in found, "one brush ROI per slice and label, shown once"
            pix = ok(osirix.call("ROIPix", roi)).pix
            answer = ok(osirix.call("DCMPixGetMapFromROI", dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=pix, roi=roi)))
            found[index] = np.asarray(answer.map, dtype=bool).reshape(answer.rows, answer.columns)
            assert ok(osirix.call("ROIName", roi)).name == "Above 500"
    return found


@pytest.mark.slow
def test_threshold_segmentation_saves_a_seg_and_shows_its_rois(own_osirix: OsirixSession, tmp_path: Path) -> None:
    osirix = own_osirix
    osirix_viewer = osirix.open_viewer()
    values, paths = source_volume(osirix, osirix_viewer)
    expected = values >= 500

    result = run(osirix, tmp_path, "Threshold segmentation", "500")

    assert result.ok, result
    assert f"Segmented {int(expected.sum())} pixels" in result.stdout
    shown = brush_masks(osirix, osirix_viewer)
    assert sorted(shown) == [i for i in range(len(paths)) if expected[i].any()]
    for index, mask in shown.items():
        assert np.array_equal(mask, expected[index]), index
    deadline = time.monotonic() + 60
    while (path := seg_in_database(osirix)) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert path is not None, "the SEG reached the database"
    seg = hd.seg.segread(path)
    assert seg.get_segment_description(1).segment_label == "Above 500"
    uids = [str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in paths]
    pixels = seg.get_pixels_by_source_instance(uids, combine_segments=True, assert_missing_frames_are_empty=True)
    assert np.array_equal(pixels > 0, expected)
    if shutil.which("dciodvfy"):
        done = subprocess.run(["dciodvfy", path], capture_output=True, text=True, timeout=60)
        assert not [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]
    # The viewer closes (its ROIs are stored) and opens again: each label shown once, not twice.
    ok(osirix.call("ViewerControllerCloseViewer", osirix_viewer))
    again = osirix.open_viewer()
    assert {i: m.sum() for i, m in brush_masks(osirix, again).items()} == {i: m.sum() for i, m in shown.items()}
