"""Non-image objects, DICOMDIR, tolerant reading and lazy decoding, in a real host and in process."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.fileset import FileSet
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from osirix_tasks.emulator.database.importer import import_paths
from osirix_tasks.emulator.database.index import Database
from osirix_tasks.emulator.workspace import open_viewer
from osirix_tasks.testing import RunningHost, isolated_env, running_host
from tests.helpers import ok

GSPS = "1.2.840.10008.5.1.4.1.1.11.1"
KEY_OBJECT = "1.2.840.10008.5.1.4.1.1.88.59"
#: file -> (modality, what Horos' displayedModalitiesForSeries shows for a study holding only it)
OBJECTS = {
    "rtplan.dcm": ("RTPLAN", "RTPLAN"),
    "rtstruct.dcm": ("RTSTRUCT", "RT"),
    "test-SR.dcm": ("SR", "SR"),
    "waveform_ecg.dcm": ("ECG", "ECG"),
    "gsps.dcm": ("PR", "PR"),
    "ko.dcm": ("KO", ""),
}


def _object(path: Path, sop_class: str, modality: str) -> None:
    """A minimal presentation state or key object selection document written with pydicom."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop_class, generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = modality, "Object^Test", "OBJ-1"
    ds.save_as(path, enforce_file_format=True)


def _relabel(source: Path, target: Path, **values: Any) -> None:
    ds = pydicom.dcmread(source, force=True)
    for key, value in values.items():
        setattr(ds, key, value)
    ds.save_as(target)


@pytest.fixture(scope="module")
def objects_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, Path]]:
    folder = tmp_path_factory.mktemp("objects")
    for name in OBJECTS:
        if name == "gsps.dcm":
            _object(folder / name, GSPS, "PR")
        elif name == "ko.dcm":
            _object(folder / name, KEY_OBJECT, "KO")
        else:
            _relabel(Path(get_testdata_file(name)), folder / name, StudyInstanceUID=generate_uid())
    with running_host(tmp_path_factory.mktemp("home"), "--empty", "--import", str(folder)) as host:
        yield host, folder


def studies_by_modality(host: RunningHost) -> dict[str, tuple[Any, Any]]:
    stub = host.stub()
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    found = {}
    for study in ok(stub.BrowserControllerDatabaseStudies(browser)).studies:
        for series in ok(stub.DicomStudySeries(study)).series:
            found[ok(stub.DicomSeriesModality(series)).modality] = (study, series)
    return found


@pytest.mark.parametrize("name", list(OBJECTS))
def test_non_image_objects_are_series_of_their_modality_and_never_open(
    objects_host: tuple[RunningHost, Path], name: str
) -> None:
    host, folder = objects_host
    modality, shown = OBJECTS[name]
    stub = host.stub()
    study, series = studies_by_modality(host)[modality]
    assert ok(stub.DicomStudyModalities(study)).modalities == shown
    [image] = ok(stub.DicomSeriesImages(series)).images
    uid = ok(stub.DicomImageSOPInstanceUID(image)).sop_instance_uid
    assert uid == pydicom.dcmread(folder / name, force=True).SOPInstanceUID
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    answer = stub.BrowserControllerOpenViewerFromImages(
        browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(
            browser=browser,
            frames=[browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=[image])],
        )
    )
    assert answer.status.status == 0
    assert f"is a {modality} object, not an image" in answer.status.message


def test_a_dicomdir_is_followed_to_its_files(tmp_path: Path) -> None:
    source = Path(get_testdata_file("DICOMDIR")).parent
    media = tmp_path / "media"
    shutil.copytree(source, media)
    expected = {
        pydicom.dcmread(instance.path, stop_before_pixels=True).SOPInstanceUID
        for instance in FileSet(media / "DICOMDIR")
    }
    database = tmp_path / "db"
    done = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "import", str(media / "DICOMDIR"), "--database", str(database)],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    db = Database(database)
    found = {row[0] for row in db.connection().execute("SELECT DISTINCT sop_instance_uid FROM images")}
    assert found == expected and len(expected) > 10


def test_cli_import_of_nothing_usable_exits_non_zero_and_says_why(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not DICOM")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "osirix_tasks",
            "import",
            str(tmp_path / "notes.txt"),
            "--database",
            str(tmp_path / "db"),
        ],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=120,
    )
    assert done.returncode == 1
    assert f"skipped (not DICOM): {tmp_path / 'notes.txt'}" in done.stdout
    assert "nothing was imported" in done.stderr


def test_grpc_import_logs_skipped_files_at_the_default_level(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"\0" * 64)
    with running_host(tmp_path, "--empty") as host:
        stub = host.stub()
        browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
        ok(
            stub.BrowserControllerCopyFilesIfNeeded(
                browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(browser=browser, paths=[str(bad)])
            )
        )
        deadline = time.monotonic() + 30
        while not any(str(bad) in line for line in host.output) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(f"skipped (not DICOM): {bad}" in line for line in host.output), "".join(host.output)


def _no_preamble_no_meta(source: Path, target: Path) -> None:
    ds = pydicom.dcmread(source)
    ds.SOPInstanceUID = generate_uid()
    del ds.file_meta
    ds.preamble = None
    pydicom.dcmwrite(target, ds, implicit_vr=True, little_endian=True, enforce_file_format=False)


def _malformed_optional_tag(source: Path, target: Path) -> None:
    """A copy whose SliceThickness (DS) holds text that is no number, written as raw bytes."""
    ds = pydicom.dcmread(source)
    ds.SOPInstanceUID = generate_uid()
    ds.SliceThickness = "1.0"
    ds.save_as(target)
    data = target.read_bytes().replace(b"DS\x04\x001.0 ", b"DS\x04\x00ab*c", 1)
    assert b"ab*c" in data
    target.write_bytes(data)


def test_tolerant_reading_and_a_truncated_slice_blank_and_named(tmp_path: Path) -> None:
    source = Path(get_testdata_file("MR_small.dcm"))
    folder = tmp_path / "series"
    folder.mkdir()
    series, study = generate_uid(), generate_uid()
    for index in range(3):  # one series of three slices along z
        _relabel(
            source,
            folder / f"s{index}.dcm",
            SOPInstanceUID=generate_uid(),
            SeriesInstanceUID=series,
            StudyInstanceUID=study,
            ImagePositionPatient=[0, 0, 10 * index],
            ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
        )
    truncated = folder / "s1.dcm"
    truncated.write_bytes(truncated.read_bytes()[:-3000])  # the middle slice loses its last rows
    _no_preamble_no_meta(source, tmp_path / "no-meta.dcm")
    _malformed_optional_tag(source, tmp_path / "bad-tag.dcm")
    expected = pydicom.dcmread(source).pixel_array.astype(np.float32)
    db = Database(tmp_path / "db")
    summary = import_paths(db, [folder, tmp_path / "no-meta.dcm", tmp_path / "bad-tag.dcm"], copy=False)
    assert summary.imported == 5, summary
    # the series opens; the truncated plane is blank and flagged with its file named, the others are whole
    series_id = db.find_series(series)[0].id
    viewer = open_viewer(db, [[i.id for i in db.images_of(series_id)]])
    planes = viewer.frames[0]
    assert [p.origin[2] for p in planes] == [0.0, 10.0, 20.0]
    assert np.array_equal(planes[0].data, expected) and np.array_equal(planes[2].data, expected)
    assert not planes[1].data.any()
    uid = pydicom.dcmread(truncated, stop_before_pixels=True).SOPInstanceUID
    assert planes[1].error is not None and str(truncated) in planes[1].error and uid in planes[1].error
    # the file without preamble or meta and the one with a malformed optional tag read as the original
    for name in ("no-meta.dcm", "bad-tag.dcm"):
        [row] = [
            r
            for s in db.studies()
            for se in db.series_of(s.id)
            for r in db.images_of(se.id)
            if Path(r.path).name == name
            or r.sop_instance_uid == pydicom.dcmread(tmp_path / name, force=True).SOPInstanceUID
        ]
        assert np.array_equal(open_viewer(db, [[row.id]]).frames[0][0].data, expected)


def test_one_frame_of_a_120_frame_cine_is_decoded_alone(tmp_path: Path) -> None:
    path = Path(get_testdata_file("color3d_jpeg_baseline.dcm"))
    db = Database(tmp_path / "db")
    import_paths(db, [path], copy=False)
    [series] = db.series_of(db.studies()[0].id)
    images = db.images_of(series.id)
    assert len(images) == 120 and {i.frame for i in images} == set(range(120))
    started = time.perf_counter()
    viewer = open_viewer(db, [[i.id for i in images]])
    opened = time.perf_counter() - started
    planes = viewer.frames[0]
    started = time.perf_counter()
    one = planes[60].data
    one_frame = time.perf_counter() - started
    # opening decodes the first plane only when it needs its full range for a default window; no other
    assert {i for i, p in enumerate(planes) if p.decoded} <= {0, 60}
    started = time.perf_counter()
    everything = pydicom.dcmread(path).pixel_array
    all_frames = time.perf_counter() - started
    assert np.array_equal(one[..., 1:4], everything[60])
    assert one_frame < all_frames / 5 and opened < all_frames, (opened, one_frame, all_frames)
