"""The stored ROI objects, in-process: valid DICOM (pydicom, highdicom, dcmtk's dsrdump, dicom3tools'
dciodvfy), the same ROIs read back, OsiriX's rules for changes, copies and second viewers, objects
made by other tools, and bad objects reported without losing anything."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2, dcmpix_pb2, roi_pb2, viewercontroller_pb2
from pydicom.sr.codedict import codes

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.emulator.database.importer import import_paths
from osirix_tasks.emulator.database.index import Database
from osirix_tasks.emulator.reset import baseline_of, reset_state
from osirix_tasks.emulator.rpc.servicer import _guarded
from osirix_tasks.emulator.state import OsirixState
from osirix_tasks.roidicom.private import read_document
from tests.helpers import foreign_seg, ok, seg_evidence

VC = viewercontroller_pb2.ViewerControllerNewROIRequest
Call = Callable[[str, Any], Any]


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The demo series' files (generated with pydicom), in slice order."""
    return generate_demo_series(tmp_path_factory.mktemp("demo"))


@pytest.fixture
def database(tmp_path: Path, demo_files: list[Path]) -> Path:
    """A database folder holding the demo series."""
    folder = tmp_path / "db"
    import_paths(Database(folder), [demo_files[0].parent])
    return folder


class Osirix:
    """An OsiriX state on a database, called as the servicer calls it."""

    def __init__(self, folder: Path):
        self.state = OsirixState(Database(folder))

    def __call__(self, name: str, request: Any) -> Any:
        return _guarded(name, self.state)(request, None)

    def open(self, frames: int = 1) -> Any:
        """A viewer on the demo series (``frames`` movie frames of it), through the protocol."""
        state = self.state
        series = next(s for s in state.db.series_of(1) if s.modality == "MR")
        images = [state.ref("DicomImage", i.id) for i in sorted(state.db.images_of(series.id), key=lambda i: i.id)]
        frame = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=images)
        request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(
            browser=state.ref("BrowserController", 0), frames=[frame] * frames, movie=frames > 1
        )
        return ok(self("BrowserControllerOpenViewerFromImages", request)).viewer

    def rois(self, viewer: Any, movie_idx: int = 0) -> list[list[Any]]:
        request = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=movie_idx)
        return [list(s.rois) for s in ok(self("ViewerControllerROIList", request)).roi_slices]

    def describe(self, roi: Any) -> dict[str, Any]:
        color = ok(self("ROIColor", roi))
        return {
            "type": ok(self("ROIIType", roi)).itype,
            "name": ok(self("ROIName", roi)).name,
            "color": (color.r, color.g, color.b),
            "points": [(round(p.x, 4), round(p.y, 4)) for p in ok(self("ROIPoints", roi)).points],
        }

    def mask(self, roi: Any) -> np.ndarray:
        pix = ok(self("ROIPix", roi)).pix
        answer = ok(self("DCMPixGetMapFromROI", dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=pix, roi=roi)))
        return np.asarray(answer.map, dtype=bool).reshape(answer.rows, answer.columns)

    def stored_files(self) -> list[Path]:
        return sorted((self.state.db.files_folder / "ROIs").rglob("*.dcm"))


def draw(osirix: Osirix, viewer: Any, itype: int, idx: int, name: str, movie_idx: int = 0, **shape: Any) -> Any:
    request = VC(
        viewer_controller=viewer, itype=itype, idx=idx, movie_idx=movie_idx, name=name, thickness=2, opacity=0.7
    )
    request.color.r, request.color.g, request.color.b = 200, 30, 90
    if "points" in shape:
        request.points.extend(VC.Point2D(x=x, y=y) for x, y in shape["points"])
    if "rect" in shape:
        x, y, w, h = shape["rect"]
        request.rectangle.CopyFrom(VC.Rect(origin_x=x, origin_y=y, width=w, height=h))
    if "mask" in shape:
        mask = np.asarray(shape["mask"], dtype=bool)
        request.buffer.CopyFrom(VC.Buffer(buffer=mask.ravel().tolist(), rows=mask.shape[0], columns=mask.shape[1]))
        request.buffer_position_x, request.buffer_position_y = shape["at"]
    return ok(osirix("ViewerControllerNewROI", request)).roi


def draw_some(osirix: Osirix, viewer: Any) -> None:
    brush = np.zeros((5, 7), dtype=bool)
    brush[1:4, 1:6] = True
    draw(osirix, viewer, 11, 3, "liver", points=[(20, 20), (50, 24), (44, 60), (18, 50)])
    draw(osirix, viewer, 9, 3, "cyst", rect=(64, 64, 10, 6))
    draw(osirix, viewer, 19, 4, "seed", rect=(30, 31, 0, 0))
    draw(osirix, viewer, 5, 4, "ruler", points=[(10, 10), (40, 50)])
    draw(osirix, viewer, 20, 5, "painted", mask=brush, at=(60, 61))
    draw(osirix, viewer, 13, 5, "a note", rect=(5, 100, 0, 0))


def everything(osirix: Osirix, viewer: Any, movie_idx: int = 0) -> list[tuple[int, dict[str, Any]]]:
    return [(i, osirix.describe(r)) for i, plane in enumerate(osirix.rois(viewer, movie_idx)) for r in plane]


def reopened_names(database: Path) -> list[str]:
    """The names of the ROIs a new OsiriX on ``database`` shows when it opens the demo series."""
    again = Osirix(database)
    return sorted(d["name"] for _, d in everything(again, again.open()))


def test_rois_read_back_the_same_in_a_new_state(database: Path) -> None:
    first = Osirix(database)
    viewer = first.open()
    draw_some(first, viewer)
    before = everything(first, viewer)
    painted = first.mask(first.rois(viewer)[5][0])
    assert first.state.roi_store.flush()

    second = Osirix(database)  # as a new host on the same database
    again = second.open()
    assert everything(second, again) == before
    assert np.array_equal(second.mask(second.rois(again)[5][0]), painted)


def test_loaded_rois_are_a_change_of_the_new_viewer_that_the_page_sees(database: Path) -> None:
    """The change counters (emulator/changes.py): a viewer that opens with stored ROIs has a ``rois``
    change, one that opens on none has not; a drawn ROI is a change too, and reaches the store."""
    first = Osirix(database)
    viewer = first.open()
    opened = first.state.cache.lookup(viewer.osirixrpc_uid)[1]
    assert first.state.changes.versions(opened)["rois"] == 0  # nothing stored yet
    draw(first, viewer, 9, 2, "cyst", rect=(64, 64, 10, 6))
    assert first.state.changes.versions(opened)["rois"] > 0
    assert first.state.roi_store.flush() and len(first.stored_files()) == 1

    second = Osirix(database)
    before = second.state.changes.now
    again = second.state.cache.lookup(second.open().osirixrpc_uid)[1]
    assert second.state.changes.versions(again)["rois"] > before


def _dciodvfy_errors(path: Path) -> list[str]:
    done = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return [line for line in (done.stdout + done.stderr).splitlines() if line.startswith("Error")]


@pytest.mark.skipif(not shutil.which("dciodvfy") or not shutil.which("dsrdump"), reason="dicom3tools/dcmtk missing")
def test_stored_objects_are_valid_dicom_for_independent_readers(database: Path, demo_files: list[Path]) -> None:
    osirix = Osirix(database)
    viewer = osirix.open()
    draw_some(osirix, viewer)
    assert osirix.state.roi_store.flush()
    files = osirix.stored_files()
    srs = [f for f in files if f.name.endswith(".sr.dcm")]
    segs = [f for f in files if f.name.endswith(".seg.dcm")]
    assert len(srs) == 3 and len(segs) == 1  # one report per image with ROIs, one SEG for the brush ROI
    for path in files:
        assert _dciodvfy_errors(path) == [], path
        assert path.stat().st_mode & 0o777 == 0o600
        assert {p.stat().st_mode & 0o777 for p in (path.parent, path.parent.parent)} == {0o700}  # ROIs/<study>
    for path in srs:
        done = subprocess.run(["dsrdump", str(path)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and not re.search(r"^[EF]: ", done.stderr, re.M), done.stderr
        assert "Imaging Measurement Report" in done.stdout
    sources = {str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID): p for p in demo_files}
    report = hd.sr.srread(next(p for p in srs if "liver" in p.read_bytes().decode("latin-1")))
    groups = hd.sr.MeasurementReport.from_sequence([report]).get_planar_roi_measurement_groups()
    assert sorted(g.tracking_identifier for g in groups) == ["cyst", "liver"]
    group = next(g for g in groups if g.tracking_identifier == "liver")
    assert group.roi.graphic_type.value == "POLYLINE"
    graphic = np.asarray(group.roi.value).reshape(-1, 2)
    assert graphic.tolist() == [[20, 20], [50, 24], [44, 60], [18, 50], [20, 20]]  # closed: first point again
    source_uid = group.roi.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID
    assert source_uid in sources
    seg = hd.seg.segread(segs[0])
    [(_, _, seg_source)] = seg.get_source_image_uids()
    expected = np.zeros((128, 128), dtype=bool)
    expected[62:65, 61:66] = True  # the brush's 3 x 5 block at (60, 61) + (1, 1)
    pixels = seg.get_pixels_by_source_instance([seg_source], combine_segments=True)
    assert np.array_equal(pixels[0] > 0, expected)
    assert seg.get_segment_description(1).segment_label == "painted"


def test_measurements_in_the_report_are_independent_of_our_code(database: Path, demo_files: list[Path]) -> None:
    osirix = Osirix(database)
    viewer = osirix.open()
    draw(osirix, viewer, 6, 2, "box", rect=(30, 40, 20, 10))
    assert osirix.state.roi_store.flush()
    [path] = osirix.stored_files()
    report = hd.sr.srread(path)
    [group] = hd.sr.MeasurementReport.from_sequence([report]).get_planar_roi_measurement_groups()
    values = {m.name.meaning: m.value for m in group.get_measurements()}
    source = pydicom.dcmread(demo_files[0].parent / f"DEMO-{3:04d}.dcm")
    spacing = [float(v) for v in source.PixelSpacing]
    assert values["Area"] == pytest.approx(20 * 10 * spacing[0] * spacing[1], rel=1e-5)
    inside = source.pixel_array[40:50, 30:50].astype(float) * float(source.get("RescaleSlope", 1)) + float(
        source.get("RescaleIntercept", 0)
    )
    assert values["Mean"] == pytest.approx(inside.mean(), rel=1e-4)
    assert values["Maximum"] == pytest.approx(inside.max())


def test_edits_and_deletions_are_stored(database: Path) -> None:
    osirix = Osirix(database)
    viewer = osirix.open()
    keep = draw(osirix, viewer, 11, 3, "liver", points=[(20, 20), (50, 24), (44, 60)])
    gone = draw(osirix, viewer, 9, 7, "cyst", rect=(64, 64, 10, 6))
    assert osirix.state.roi_store.flush()
    ok(osirix("ROISetName", roi_pb2.ROISetNameRequest(roi=keep, name="renamed")))
    ok(osirix("ROIMove", roi_pb2.ROIMoveRequest(roi=keep, columns=5, rows=-2)))
    ok(osirix("ROIDelete", gone))
    assert osirix.state.roi_store.flush()
    assert len(osirix.stored_files()) == 1  # the plane left without ROIs has no stored object any more

    again = Osirix(database)
    found = everything(again, again.open())
    assert found == [
        (3, {"type": 11, "name": "renamed", "color": (200, 30, 90), "points": [(25, 18), (55, 22), (49, 58)]})
    ]


def test_a_second_viewer_does_not_overwrite_what_the_first_one_stored(database: Path) -> None:
    osirix = Osirix(database)
    late = osirix.open()  # opened before anything was drawn: it loaded no ROIs
    first = osirix.open()
    draw(osirix, first, 9, 2, "cyst", rect=(64, 64, 10, 6))
    assert osirix.state.roi_store.flush()
    draw(osirix, late, 19, 9, "seed", rect=(3, 4, 0, 0))  # changes plane 9 only
    ok(osirix("ViewerControllerCloseViewer", late))  # OsiriX writes only the planes that changed
    assert osirix.state.roi_store.flush()
    assert reopened_names(database) == ["cyst", "seed"]


def test_copies_are_neither_loaded_nor_stored_as_in_osirix(database: Path) -> None:
    osirix = Osirix(database)
    viewer = osirix.open()
    draw(osirix, viewer, 9, 2, "original", rect=(64, 64, 10, 6))
    copy = ok(osirix("ViewerControllerCopyViewerWindow", viewer)).viewer_controller
    assert everything(osirix, copy) == []  # copyViewerWindow deletes the ROIs of the copy
    draw(osirix, copy, 9, 3, "on the copy", rect=(64, 64, 10, 6))
    ok(osirix("ViewerControllerCloseViewer", copy))
    ok(osirix("ViewerControllerCloseViewer", viewer))  # a closing viewer saves its ROIs
    assert osirix.state.roi_store.flush()
    assert reopened_names(database) == ["original"]


def test_movie_frames_keep_their_rois(database: Path) -> None:
    osirix = Osirix(database)
    viewer = osirix.open(frames=2)
    draw(osirix, viewer, 9, 2, "frame two", movie_idx=1, rect=(64, 64, 10, 6))
    assert osirix.state.roi_store.flush()
    again = Osirix(database)
    movie = again.open(frames=2)
    # Both frames show the same images here, so both show the ROI stored for that image (as OsiriX).
    assert [d["name"] for _, d in everything(again, movie, movie_idx=1)] == ["frame two"]
    assert [d["name"] for _, d in everything(again, movie, movie_idx=0)] == ["frame two"]


def test_reset_removes_rois_stored_since_loading(database: Path) -> None:
    osirix = Osirix(database)
    baseline = baseline_of(osirix.state)
    draw(osirix, osirix.open(), 9, 2, "temporary", rect=(64, 64, 10, 6))
    assert osirix.state.roi_store.flush() and osirix.stored_files()
    reset_state(osirix.state, baseline)
    assert osirix.stored_files() == [] and everything(osirix, osirix.open()) == []


# --- objects made by other tools ---------------------------------------------------------------


def test_a_seg_written_by_highdicom_opens_as_mask_rois(database: Path, demo_files: list[Path], tmp_path: Path) -> None:
    sources = [seg_evidence(p) for p in demo_files[6:9]]
    labels = np.zeros((3, 128, 128), dtype=np.uint8)
    labels[0, 10:20, 30:45] = 1
    labels[1, 50:70, 50:60] = 2
    labels[2, 5:9, 5:9] = 1
    labels[2, 100:110, 90:100] = 2
    descriptions = [
        hd.seg.SegmentDescription(
            segment_number=n,
            segment_label=label,
            segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Tissue,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
            display_color=hd.color.CIELabColor.from_rgb(*rgb),
        )
        for n, label, rgb in ((1, "kidney", (255, 0, 0)), (2, "spleen", (0, 0, 255)))
    ]
    seg = foreign_seg(sources, labels, descriptions)
    path = tmp_path / "other-tool.seg.dcm"
    seg.save_as(path)
    osirix = Osirix(database)
    summary = import_paths(osirix.state.db, [path])
    assert summary.imported == 1  # OsiriX lists a SEG as a series of its own
    viewer = osirix.open()
    planes = osirix.rois(viewer)
    found = {(i, osirix.describe(r)["name"]): osirix.mask(r) for i, plane in enumerate(planes) for r in plane}
    assert sorted(found) == [(6, "kidney"), (7, "spleen"), (8, "kidney"), (8, "spleen")]
    for (index, name), mask in found.items():
        assert np.array_equal(mask, labels[index - 6] == (1 if name == "kidney" else 2)), (index, name)
    assert osirix.describe(planes[7][0])["color"] == pytest.approx((0, 0, 255), abs=2)
    assert osirix.describe(planes[7][0])["type"] == 20


def test_a_report_written_by_highdicom_opens_as_rois(database: Path, demo_files: list[Path], tmp_path: Path) -> None:
    source = seg_evidence(demo_files[10])
    image = hd.sr.SourceImageForRegion(source.SOPClassUID, source.SOPInstanceUID)
    polygon = np.array([[10.0, 10.0], [40.0, 12.0], [30.0, 35.0], [10.0, 10.0]])
    groups = [
        hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=name),
            referenced_region=hd.sr.ImageRegion(kind, data, image),
        )
        for name, kind, data in (("lesion", "POLYLINE", polygon), ("marker", "POINT", np.array([[70.0, 80.0]])))
    ]
    observer = hd.sr.ObserverContext(
        observer_type=codes.cid270.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes("Reader"),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_person_context=observer),
        procedure_reported=codes.cid100.MRIUnspecifiedBodyRegion,
        imaging_measurements=groups,
    )
    sr = hd.sr.Comprehensive3DSR([source], report, hd.UID(), 41, hd.UID(), 1, manufacturer="another tool")
    path = tmp_path / "other-tool.sr.dcm"
    sr.save_as(path)
    osirix = Osirix(database)
    assert import_paths(osirix.state.db, [path]).objects == 1
    plane = osirix.rois(osirix.open())[10]
    described = sorted((osirix.describe(r) for r in plane), key=lambda d: d["name"])
    assert described[0]["name"] == "lesion" and described[0]["type"] == 11  # a closed polygon, as drawn
    assert described[0]["points"] == [(10, 10), (40, 12), (30, 35)]
    assert described[1]["name"] == "marker" and described[1]["type"] == 19 and described[1]["points"] == [(70, 80)]


def test_bad_objects_are_reported_and_skipped_and_nothing_is_lost(database: Path, tmp_path: Path) -> None:
    from pydicom.data import get_testdata_file

    osirix = Osirix(database)
    viewer = osirix.open()
    draw(osirix, viewer, 9, 2, "kept", rect=(64, 64, 10, 6))
    assert osirix.state.roi_store.flush()
    stranger_seg = get_testdata_file("liver_1frame.dcm", download=False)  # references images we do not have
    not_a_report = get_testdata_file("test-SR.dcm", download=False)  # an SR without TID 1500 content
    assert stranger_seg and not_a_report
    study_uid = osirix.state.db.study(1).study_instance_uid  # type: ignore[union-attr]
    bad = []
    for name, original in (("stranger.dcm", stranger_seg), ("not-a-report.dcm", not_a_report)):
        ds = pydicom.dcmread(original)
        ds.StudyInstanceUID = study_uid  # filed in our study, so the viewer looks at it
        ds.save_as(tmp_path / name)
        bad.append(tmp_path / name)
    assert import_paths(osirix.state.db, bad).imported == 2
    again = Osirix(database)
    assert [d["name"] for _, d in everything(again, again.open())] == ["kept"]
    problems = list(again.state.roi_store.foreign.problems)
    copies = {
        str(r.path) for r in again.state.db.images_of_study(1) if r.modality in ("SR", "SEG") and "ROIs" not in r.path
    }
    assert len(problems) == 2 and {p.split(": ", 1)[0] for p in problems} == copies  # each file named
    assert any("not a TID 1500 measurement report" in p for p in problems)
    assert any("per-frame functional groups" in p for p in problems)


def test_a_seg_of_images_we_do_not_have_is_reported(database: Path, demo_files: list[Path], tmp_path: Path) -> None:
    others = []
    for n, path in enumerate(demo_files[:2]):
        ds = seg_evidence(path)
        ds.SOPInstanceUID = hd.UID()  # the same study, but images this database never saw
        ds.SeriesInstanceUID = ds.SOPInstanceUID if n == 0 else others[0].SeriesInstanceUID
        others.append(ds)
    mask = np.zeros((2, 128, 128), dtype=bool)
    mask[:, 10:20, 10:20] = True
    description = hd.seg.SegmentDescription(
        1, "elsewhere", codes.SCT.Tissue, codes.SCT.Tissue, hd.seg.SegmentAlgorithmTypeValues.MANUAL
    )
    seg = foreign_seg(others, mask, [description], series_number=50)
    seg.save_as(tmp_path / "elsewhere.dcm")
    osirix = Osirix(database)
    assert import_paths(osirix.state.db, [tmp_path / "elsewhere.dcm"]).imported == 1
    assert everything(osirix, osirix.open()) == []
    [problem] = osirix.state.roi_store.foreign.problems
    assert "references no image of this database" in problem


def test_a_damaged_stored_report_is_reported_and_kept_and_the_other_planes_load(database: Path) -> None:
    osirix = Osirix(database)
    viewer = osirix.open()
    draw(osirix, viewer, 9, 2, "kept", rect=(64, 64, 10, 6))
    draw(osirix, viewer, 11, 4, "damaged", points=[(20, 20), (50, 24), (44, 60)])
    assert osirix.state.roi_store.flush()
    [damaged] = [
        p
        for p in osirix.stored_files()
        if "damaged" in str(read_document(pydicom.dcmread(p)))  # the SR of plane 4
    ]
    content = damaged.read_bytes()
    damaged.write_bytes(content[: len(content) // 2])  # a disk that lost the second half

    again = Osirix(database)
    assert [(i, d["name"]) for i, d in everything(again, again.open())] == [(2, "kept")]
    [problem] = again.state.roi_store.foreign.problems
    assert problem.startswith(f"{damaged}: ") and problem.endswith("skipped")
    assert damaged.read_bytes() == content[: len(content) // 2]  # kept as it was: nothing deleted
