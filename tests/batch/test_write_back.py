"""ROIs and SEGs in batches, on real ``dask worker`` processes and a host that keeps ROIs with their series.

Results of remote items written back into OsiriX: a task working on shipped pixels (no connection to
OsiriX) saves a SEG and adds an ROI; the OsiriX machine writes both when the item returns. The SEGs
are read from the host's database with highdicom and compared with numpy's threshold of the pixels
read independently with pydicom. ROI tasks in a batch find each series' persisted ROIs by name.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from osirixgrpc import dcmpix_pb2, viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.client import Connection, targets
from osirix_tasks.testing import RunningHost, running_host
from osirix_tasks.testing.cohort import CohortSeries, write_cohort
from tests.batch.dask_cluster import Cluster, two_workers

pytestmark = pytest.mark.slow

TASKS = '''
from osirix_tasks import osirix_task


@osirix_task(type="Image", name="Shipped threshold", pixels=True)
def shipped_threshold(context):
    """Threshold the shipped pixels at their minimum + 200, save that as a SEG, mark a corner."""
    volume = context.volume
    labels = volume >= float(volume.min()) + 200
    if context.args == ["narrow"]:
        labels = labels[:, :, :-1]
    saved = context.save_segmentation(labels, ["Bright"], series_description="Shipped threshold")
    context.add_roi("rectangle", name="Corner", box=(1, 1, 4, 4), slice=0)
    return {"seg": saved.sop_instance_uid, "seg_series": saved.series_instance_uid,
            "connected": context.connection is not None, "bright": int(labels.sum())}


@osirix_task(type="ROI", name="Named ROIs")
def named_rois(context):
    """The names of the ROIs the run was given, and on which planes."""
    names = sorted({context.connection.call("ROIName", roi).name for roi in context.rois})
    return {"names": ",".join(names), "count": len(context.rois)}


@osirix_task(type="ROI", name="ROI pixel means", pixels=True)
def roi_pixel_means(context):
    """The mean of the pixels inside the run's ROIs, from the shipped (or read) pixels and ROI masks."""
    import numpy as np

    rois = context.extras["rois"]
    inside = np.concatenate([context.volume[roi["slice"]][roi["mask"]] for roi in rois])
    return {"names": ",".join(sorted({roi["name"] for roi in rois})), "count": len(rois),
            "mean": float(inside.mean()), "pixels": int(inside.size), "connected": context.connection is not None}
'''


@pytest.fixture(scope="module")
def cohort(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[CohortSeries]]:
    folder = tmp_path_factory.mktemp("cohort")
    return folder, write_cohort(folder, studies=2, series_per_study=2, slices=3, size=24, seed=11)


@pytest.fixture(scope="module")
def unframed(cohort: tuple[Path, list[CohortSeries]]) -> CohortSeries:
    """One more series (patient NOFOR) whose images have no FrameOfReferenceUID: no SEG can be made of it."""
    (written,) = write_cohort(cohort[0] / "unframed", studies=1, series_per_study=1, slices=3, size=24, seed=12)
    for path in written.files:
        ds = pydicom.dcmread(path)
        del ds.FrameOfReferenceUID
        ds.PatientID = "NOFOR"
        ds.save_as(path, enforce_file_format=True)
    return written


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("project")
    (folder / "shipped_tasks.py").write_text(TASKS)
    (folder / "tasks.toml").write_text('[settings]\nmodules = ["shipped_tasks"]\n')
    return folder / "tasks.toml"


@pytest.fixture(scope="module")
def host(
    tmp_path_factory: pytest.TempPathFactory, cohort: tuple[Path, list[CohortSeries]], unframed: CohortSeries
) -> Iterator[RunningHost]:
    home = tmp_path_factory.mktemp("home")
    with running_host(home, "--empty", "--import", str(cohort[0]), "--no-web") as running:
        yield running


@pytest.fixture(scope="module")
def cluster(host: RunningHost) -> Iterator[Cluster]:
    with two_workers(host.env()) as cluster:
        yield cluster


def thresholded(series: CohortSeries) -> dict[str, np.ndarray]:
    """Each image's mask, by SOPInstanceUID: its pixels (read with pydicom, rescaled) at or above the
    series' minimum + 200, computed with numpy."""
    datasets = [pydicom.dcmread(path) for path in series.files]
    planes = [ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept) for ds in datasets]
    threshold = float(np.min(planes)) + 200
    return {str(ds.SOPInstanceUID): plane >= threshold for ds, plane in zip(datasets, planes, strict=True)}


def segs_in_database(connection: Connection, description: str) -> list[str]:
    """Paths of the database's series described ``description``."""
    browser = connection.call("OsirixCurrentBrowser", Empty()).browser_controller
    found = []
    for study in connection.call("BrowserControllerDatabaseStudies", browser).studies:
        for series in connection.call("DicomStudySeries", study).series:
            if connection.call("DicomSeriesSeriesDescription", series).series_description == description:
                found.extend(connection.call("DicomSeriesPaths", series).paths)
    return list(dict.fromkeys(found))  # a multi-frame object's path comes once per frame


def test_a_remote_items_seg_and_rois_are_written_back_through_the_host(
    host: RunningHost, cluster: Cluster, project: Path, cohort: tuple[Path, list[CohortSeries]]
) -> None:
    series = cohort[1]
    result = host.cli(
        "--registry", str(project), "batch", "Shipped threshold", "--where", "patient_id!=NOFOR", "--server",
        host.address, "--scheduler", cluster.address, "--ship-pixels", "--quiet", timeout=240,
    )  # fmt: skip
    if result.returncode != 0:
        items = json.loads(host.cli("batch", "show", "--json").stdout)["items"]
        consoles = [host.cli("console", item["run_id"]).stderr for item in items[:1]]
        raise AssertionError(f"{result.stderr}\n{[i.get('message') for i in items]}\n{consoles}")
    rows = {r["series_uid"]: r for r in json.loads(host.cli("batch", "results", "--json").stdout)}
    assert set(rows) == {s.series_uid for s in series} and len(rows) >= 3
    assert all(row["connected"] is False for row in rows.values())  # the task never reached OsiriX
    output = host.cli("console", rows[series[0].series_uid]["run_id"]).stderr  # the runner's lines
    assert f"SEG {rows[series[0].series_uid]['seg']} ('Bright') saved in the database" in output

    with Connection(host.address) as connection:
        deadline = time.monotonic() + 60  # OsiriX imports copied files in the background
        while len(paths := segs_in_database(connection, "Shipped threshold")) < len(series):
            assert time.monotonic() < deadline, f"{len(paths)} SEG(s) in the database, {len(series)} expected"
            time.sleep(0.2)
        assert len(paths) == len(series)  # one per series, none twice
        by_series = {}
        for path in paths:
            seg = hd.seg.segread(path)
            referenced = str(seg.ReferencedSeriesSequence[0].SeriesInstanceUID)
            by_series[referenced] = seg
        assert set(by_series) == {s.series_uid for s in series}
        for s in series:
            seg = by_series[s.series_uid]
            assert str(seg.SOPInstanceUID) == rows[s.series_uid]["seg"]
            assert seg.get_segment_description(1).segment_label == "Bright"
            expected = thresholded(s)
            masks = seg.get_pixels_by_source_instance(list(expected), segment_numbers=[1])
            for index, uid in enumerate(expected):
                np.testing.assert_array_equal(masks[index, :, :, 0] > 0, expected[uid], err_msg=f"{s.series_uid} {uid}")
            assert rows[s.series_uid]["bright"] == sum(int(m.sum()) for m in expected.values())

        for s in series:  # the ROIs were kept with the series: a viewer opened now loads them
            _, found = targets.find_series(connection, s.series_uid, s.study_uid)
            viewer = targets.open_series_viewer(connection, found)
            try:
                corners = targets.rois_by_name(connection, viewer, ["Corner"])
                brushes = targets.rois_by_name(connection, viewer, ["Bright"])
                assert len(corners) == 1, s.series_uid
                assert connection.call("ROIArea", corners[0]).area > 0
            finally:
                targets.close_viewer(connection, viewer)
            assert brushes, "the SEG's label is drawn as brush ROIs, as save_segmentation does on the OsiriX machine"


def test_a_mask_that_does_not_fit_fails_its_item_on_the_worker_and_nothing_is_written(
    host: RunningHost, cluster: Cluster, project: Path, cohort: tuple[Path, list[CohortSeries]]
) -> None:
    target = cohort[1][1]
    with Connection(host.address) as connection:
        before = segs_in_database(connection, "Shipped threshold")
    result = host.cli(
        "--registry", str(project), "batch", "Shipped threshold", target.series_uid, "--server", host.address,
        "--scheduler", cluster.address, "--ship-pixels", "--arg", "narrow", "--quiet", timeout=240,
    )  # fmt: skip
    assert result.returncode == 1
    item = json.loads(host.cli("batch", "show", "--json").stdout)["items"][0]
    assert item["status"] == "failed"
    errors = host.cli("console", item["run_id"]).stderr
    assert "the labels are (3, 24, 23) but the viewer shows 3 slices of 24x24" in errors
    time.sleep(1)  # a SEG handed to OsiriX would be imported by now
    with Connection(host.address) as connection:
        assert segs_in_database(connection, "Shipped threshold") == before


def _draw(connection: Connection, series: CohortSeries, rois: list[tuple[str, int]]) -> None:
    """Draw polygons named and placed as ``rois`` (name, plane) on a viewer of ``series``, then close
    it: the host keeps them with the series."""
    from osirix_tasks.client.viewer_tools import add_roi

    _, found = targets.find_series(connection, series.series_uid, series.study_uid)
    viewer = targets.open_series_viewer(connection, found)
    try:
        for name, plane in rois:
            points = [(2.0, 2.0), (12.0, 3.0), (9.0, 11.0 + plane), (3.0, 8.0)]
            add_roi(connection, "polygon", name=name, points=points, slice=plane, viewer=viewer)
    finally:
        targets.close_viewer(connection, viewer)


@pytest.fixture(scope="module")
def drawn(host: RunningHost, cohort: tuple[Path, list[CohortSeries]]) -> tuple[CohortSeries, CohortSeries]:
    """Two series with ROIs named 'lesion' (and one 'other') kept by the host; no viewer open."""
    first, second = cohort[1][2], cohort[1][3]
    with Connection(host.address) as connection:
        _draw(connection, first, [("lesion", 0), ("other", 1), ("lesion", 2)])
        _draw(connection, second, [("lesion", 1)])
        assert targets.viewer_of_series(connection, first.series_uid) is None  # no viewer holds them now
    stored = [p for p in host.home.rglob("*.dcm") if "ROIs" in p.parts]
    assert stored, "the host keeps ROIs as DICOM beside the series"
    return first, second


def test_a_roi_task_in_a_batch_finds_each_series_persisted_rois_by_name(
    host: RunningHost, cluster: Cluster, project: Path, drawn: tuple[CohortSeries, CohortSeries]
) -> None:
    first, second = drawn

    result = host.cli(
        "--registry", str(project), "batch", "Named ROIs", first.series_uid, second.series_uid, "--roi", "lesion",
        "--server", host.address, "--scheduler", cluster.address, "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {r["series_uid"]: r for r in json.loads(host.cli("batch", "results", "--json").stdout)}
    assert (rows[first.series_uid]["names"], rows[first.series_uid]["count"]) == ("lesion", 2)
    assert (rows[second.series_uid]["names"], rows[second.series_uid]["count"]) == ("lesion", 1)

    missing = host.cli(
        "--registry", str(project), "batch", "Named ROIs", second.series_uid, "--roi", "other", "--server",
        host.address, "--scheduler", cluster.address, "--quiet",
    )  # fmt: skip
    assert missing.returncode == 1
    item = json.loads(host.cli("batch", "show", "--json").stdout)["items"][0]
    assert "has none named 'other'" in host.cli("console", item["run_id"]).stderr
    wrong = host.cli("--registry", str(project), "batch", "Shipped threshold", second.series_uid, "--roi", "lesion",
                     "--server", host.address, "--dry-run")  # fmt: skip
    assert wrong.returncode == 1 and "--roi names the ROIs of an ROI task" in wrong.stderr


def inside_lesions(connection: Connection, series: CohortSeries) -> np.ndarray:
    """The pixels inside the series' 'lesion' ROIs: masks as OsiriX answers them (DCMPixGetMapFromROI),
    pixels read with pydicom from each plane's source file."""
    _, found = targets.find_series(connection, series.series_uid, series.study_uid)
    viewer = targets.open_series_viewer(connection, found)
    try:
        request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=0)
        planes = list(connection.call("ViewerControllerPixList", request).pix)
        listing = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=0)
        values = []
        for index, plane in enumerate(connection.call("ViewerControllerROIList", listing).roi_slices):
            for roi in plane.rois:
                if connection.call("ROIName", roi).name != "lesion":
                    continue
                answer = connection.call(
                    "DCMPixGetMapFromROI", dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=planes[index], roi=roi)
                )
                mask = np.asarray(answer.map, dtype=bool).reshape(answer.rows, answer.columns)
                ds = pydicom.dcmread(connection.call("DCMPixSourceFile", planes[index]).source_file)
                values.append((ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept))[mask])
    finally:
        targets.close_viewer(connection, viewer)
    return np.concatenate(values)


@pytest.mark.parametrize("ship", [True, False], ids=["shipped-to-the-worker", "read-on-the-worker"])
def test_a_pixels_roi_task_gets_the_named_rois_as_masks_shipped_or_read(
    host: RunningHost, cluster: Cluster, project: Path, drawn: tuple[CohortSeries, CohortSeries], ship: bool
) -> None:
    result = host.cli(
        "--registry", str(project), "batch", "ROI pixel means", *(s.series_uid for s in drawn), "--roi", "lesion",
        "--server", host.address, "--scheduler", cluster.address, *(["--ship-pixels"] if ship else []), "--quiet",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {r["series_uid"]: r for r in json.loads(host.cli("batch", "results", "--json").stdout)}
    with Connection(host.address) as connection:
        for series, count in zip(drawn, (2, 1), strict=True):
            expected = inside_lesions(connection, series)
            row = rows[series.series_uid]
            assert (row["names"], row["count"], row["connected"]) == ("lesion", count, not ship)
            assert row["pixels"] == expected.size > 0
            assert row["mean"] == pytest.approx(float(expected.mean()), rel=1e-6)


def test_a_shipped_roi_item_on_a_series_without_the_named_rois_fails_alone_saying_so(
    host: RunningHost, cluster: Cluster, project: Path, drawn: tuple[CohortSeries, CohortSeries],
    cohort: tuple[Path, list[CohortSeries]],
) -> None:  # fmt: skip
    bare = cohort[1][0]  # no ROI named 'lesion'
    result = host.cli(
        "--registry", str(project), "batch", "ROI pixel means", drawn[1].series_uid, bare.series_uid, "--roi",
        "lesion", "--server", host.address, "--scheduler", cluster.address, "--ship-pixels", "--quiet",
    )  # fmt: skip
    assert result.returncode == 1
    items = json.loads(host.cli("batch", "show", "--json").stdout)["items"]
    assert [i["status"] for i in items] == ["succeeded", "failed"]
    assert f"the series {bare.series_uid} has none named 'lesion'" in host.cli("console", items[1]["run_id"]).stderr


def _seg_count(connection: Connection, series_uid: str) -> int:
    return sum(
        str(pydicom.dcmread(p, stop_before_pixels=True).ReferencedSeriesSequence[0].SeriesInstanceUID) == series_uid
        for p in segs_in_database(connection, "Shipped threshold")
    )


def _corners(connection: Connection, series: CohortSeries) -> int:
    _, found = targets.find_series(connection, series.series_uid, series.study_uid)
    viewer = targets.open_series_viewer(connection, found)
    try:
        return len(targets.rois_by_name(connection, viewer, ["Corner"]))
    finally:
        targets.close_viewer(connection, viewer)


def test_the_same_task_run_on_this_machine_writes_its_seg_and_roi_at_once(
    host: RunningHost, project: Path, cohort: tuple[Path, list[CohortSeries]]
) -> None:
    target = cohort[1][3]
    with Connection(host.address) as connection:
        segs, corners = _seg_count(connection, target.series_uid), _corners(connection, target)
        result = host.cli(
            "--registry", str(project), "run", "Shipped threshold", "--series", target.series_uid, "--server",
            host.address,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        deadline = time.monotonic() + 60
        while _seg_count(connection, target.series_uid) < segs + 1:
            assert time.monotonic() < deadline, "the SEG never reached the database"
            time.sleep(0.2)
        assert _corners(connection, target) == corners + 1


def test_results_that_cannot_be_written_back_fail_their_item_saying_why(
    host: RunningHost, cluster: Cluster, project: Path, unframed: CohortSeries
) -> None:
    with Connection(host.address) as connection:
        before = segs_in_database(connection, "Shipped threshold")
    result = host.cli(
        "--registry", str(project), "batch", "Shipped threshold", unframed.series_uid, "--server", host.address,
        "--scheduler", cluster.address, "--ship-pixels", "--quiet",
    )  # fmt: skip
    assert result.returncode == 1
    item = json.loads(host.cli("batch", "show", "--json").stdout)["items"][0]
    assert item["status"] == "failed"
    why = f"its results could not be written back to OsiriX at {host.address}: "
    assert item["message"].startswith(why) and "Frame Of Reference UID" in item["message"]
    assert why in host.cli("console", item["run_id"]).stderr
    time.sleep(1)
    with Connection(host.address) as connection:
        assert segs_in_database(connection, "Shipped threshold") == before
