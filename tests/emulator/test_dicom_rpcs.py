"""The embedded OsiriX's database RPCs against the MR phantom, checked with pydicom."""

from __future__ import annotations

import datetime as dt
import filecmp
import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2, osirix_pb2, types_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.emulator.database.dates import date_components
from osirix_tasks.testing import RunningHost, running_host
from tests.helpers import ok


@pytest.fixture(scope="module")
def host(phantom_host: RunningHost) -> RunningHost:
    """This module's tests run on the host that imported the MR phantom."""
    return phantom_host


@pytest.fixture(scope="module")
def phantom(phantom_dir: Path) -> list[pydicom.Dataset]:
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in sorted(phantom_dir.glob("*.dcm"))]


def acquired(ds: pydicom.Dataset) -> dt.datetime:
    moment = dt.datetime.strptime(ds.AcquisitionDate + ds.AcquisitionTime.split(".")[0], "%Y%m%d%H%M%S")
    return moment.replace(microsecond=int(ds.AcquisitionTime.split(".")[1][:3]) * 1000)


def the_study(host: RunningHost):  # type: ignore[no-untyped-def]
    stub = host.stub()
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    [study] = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
    return stub, browser, study


def test_study_attributes_match_the_dicom_tags(host: RunningHost, phantom: list[pydicom.Dataset]) -> None:
    stub, _, study = the_study(host)
    ds = phantom[0]
    assert ok(stub.DicomStudyName(study)).name == str(ds.PatientName)
    assert ok(stub.DicomStudyPatientID(study)).patient_id == ds.PatientID
    assert ok(stub.DicomStudyPatientSex(study)).patient_sex == ds.PatientSex
    assert ok(stub.DicomStudyStudyInstanceUID(study)).study_instance_uid == ds.StudyInstanceUID
    assert ok(stub.DicomStudyStudyName(study)).study_name == "Osirixgrpc Test Study"
    assert ok(stub.DicomStudyInstitutionName(study)).institution_name == ds.InstitutionName
    assert ok(stub.DicomStudyReferringPhysician(study)).referring_physician == str(ds.ReferringPhysicianName)
    missing = stub.DicomStudyPerformingPhysician(study)
    assert missing.status.status == 0 and missing.status.message == "Performing physician not available"
    assert ok(stub.DicomStudyPatientUID(study)).patient_uid == (
        f"{ds.PatientName}-{ds.PatientID}-{ds.PatientBirthDate}".upper()
    )
    birth = ok(stub.DicomStudyDateOfBirth(study))
    assert (birth.year, birth.month, birth.day) == (1900, 1, 1)
    assert ok(stub.DicomStudyModality(study)).modality == "MR"
    assert ok(stub.DicomStudyModalities(study)).modalities == "MR"
    assert ok(stub.DicomStudyNoFiles(study)).no_files == 40
    assert ok(stub.DicomStudyRawNoFiles(study)).no_files == 40
    assert ok(stub.DicomStudyNumberOfImages(study)).no_images == 40
    date = ok(stub.DicomStudyDate(study))
    earliest = min(acquired(d) for d in phantom)
    assert (date.year, date.month, date.day, date.hour, date.minute, date.second) == (
        earliest.year,
        earliest.month,
        earliest.day,
        earliest.hour,
        earliest.minute,
        earliest.second,
    )
    assert date.millisecond == date_components(earliest)["millisecond"]
    added = ok(stub.DicomStudyDateAdded(study))
    assert abs(
        dt.datetime(added.year, added.month, added.day, added.hour, added.minute, added.second) - dt.datetime.now()
    ) < dt.timedelta(hours=1)
    paths = ok(stub.DicomStudyPaths(study)).paths
    assert len(paths) == 40 and all(p.startswith(str(host.database)) for p in paths)
    assert len(ok(stub.DicomStudyImages(study)).images) == 40


def test_millisecond_uses_the_plugins_int32_arithmetic() -> None:
    parts = date_components(dt.datetime(2022, 8, 3, 19, 3, 11, 530000))
    assert parts["millisecond"] == 1718993592  # 1000 x 529999971 ns, wrapped to int32


def test_series_attributes_and_osirix_order(host: RunningHost, phantom: list[pydicom.Dataset]) -> None:
    stub, _, study = the_study(host)
    [series] = ok(stub.DicomStudySeries(study)).series
    ds = phantom[0]
    assert ok(stub.DicomSeriesSeriesInstanceUID(series)).series_instance_uid == f"{ds.SeriesInstanceUID} TE-98"
    assert ok(stub.DicomSeriesSeriesDescription(series)).series_description == ds.SeriesDescription
    assert ok(stub.DicomSeriesName(series)).name == ds.SeriesDescription
    assert ok(stub.DicomSeriesModality(series)).modality == "MR"
    assert ok(stub.DicomSeriesSeriesSOPClassUID(series)).series_sop_class_uid == ds.SOPClassUID
    assert ok(stub.DicomSeriesNumberOfImages(series)).number_of_images == 40
    assert ok(stub.DicomSeriesStudy(series)).study.osirixrpc_uid == study.osirixrpc_uid
    for rpc, message in (
        ("DicomSeriesNextSeries", "No next series"),
        ("DicomSeriesPreviousSeries", "No previous series"),
    ):
        answer = getattr(stub, rpc)(series)
        assert (answer.status.status, answer.status.message) == (0, message)

    # OsiriX's plane order: ascending position along the normal (-1, 0, 0) = descending x.
    by_x = sorted(phantom, key=lambda d: -float(d.ImagePositionPatient[0]))
    sorted_images = ok(stub.DicomSeriesSortedImages(series)).sorted_images
    uids = [ok(stub.DicomImageSOPInstanceUID(i)).sop_instance_uid for i in sorted_images]
    assert uids == [d.SOPInstanceUID for d in by_x]
    assert by_x[0].InstanceNumber == 40 and by_x[-1].InstanceNumber == 1
    first = acquired(by_x[0])
    date = ok(stub.DicomSeriesDate(series))
    assert (date.hour, date.minute, date.second) == (first.hour, first.minute, first.second)
    images = ok(stub.DicomSeriesImages(series)).images
    assert [ok(stub.DicomImageInstanceNumber(i)).instance_number for i in images] == list(range(1, 41))
    assert len(ok(stub.DicomSeriesPaths(series)).paths) == 40


def test_image_attributes(host: RunningHost, phantom: list[pydicom.Dataset], phantom_dir: Path) -> None:
    stub, _, study = the_study(host)
    [series] = ok(stub.DicomStudySeries(study)).series
    by_uid = {d.SOPInstanceUID: d for d in phantom}
    sources = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in phantom_dir.glob("*.dcm")}
    for image in ok(stub.DicomSeriesImages(series)).images[:5]:
        uid = ok(stub.DicomImageSOPInstanceUID(image)).sop_instance_uid
        ds = by_uid[uid]
        assert ok(stub.DicomImageWidth(image)).width == ds.Columns
        assert ok(stub.DicomImageHeight(image)).height == ds.Rows
        assert ok(stub.DicomImageNumberOfFrames(image)).number_of_frames == 1
        assert ok(stub.DicomImageModality(image)).modality == "MR"
        assert ok(stub.DicomImageInstanceNumber(image)).instance_number == ds.InstanceNumber
        assert ok(stub.DicomImageSeries(image)).series.osirixrpc_uid == series.osirixrpc_uid
        iop = np.array(ds.ImageOrientationPatient, float)
        normal = np.cross(iop[:3], iop[3:])
        # OsiriX stores the position's coordinate on the patient axis that dominates the normal (DicomFile)
        expected = float(ds.ImagePositionPatient[int(np.argmax(np.abs(normal)))])
        assert math.isclose(ok(stub.DicomImageSliceLocation(image)).slice_location, expected, rel_tol=1e-6)
        date = ok(stub.DicomImageDate(image))
        moment = acquired(ds)
        assert (date.hour, date.minute, date.second, date.millisecond) == (
            moment.hour,
            moment.minute,
            moment.second,
            date_components(moment)["millisecond"],
        )
        path = ok(stub.DicomImageCompletePath(image)).complete_path
        assert path.startswith(str(host.database)) and filecmp.cmp(path, sources[uid], shallow=False)


def test_uids_are_stable_and_the_cache_names_their_types(host: RunningHost) -> None:
    stub, browser, study = the_study(host)
    again = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    assert again.osirixrpc_uid == browser.osirixrpc_uid
    assert ok(stub.BrowserControllerDatabaseStudies(browser)).studies[0].osirixrpc_uid == study.osirixrpc_uid
    uids = set(ok(stub.OsirixCacheUids(Empty())).uids)
    assert {browser.osirixrpc_uid, study.osirixrpc_uid} <= uids
    kind = ok(stub.OsirixCacheObjectForUid(osirix_pb2.OsirixCacheObjectForUidRequest(uid=study.osirixrpc_uid)))
    assert kind.object_type == "DicomStudy"
    kind = ok(stub.OsirixCacheObjectForUid(osirix_pb2.OsirixCacheObjectForUidRequest(uid=browser.osirixrpc_uid)))
    assert kind.object_type == "BrowserController"
    nothing = ok(stub.OsirixCacheObjectForUid(osirix_pb2.OsirixCacheObjectForUidRequest(uid="nope")))
    assert nothing.object_type == "no object"


def test_two_servers_serve_one_state(host: RunningHost) -> None:
    _, _, study = the_study(host)
    other = host.stub(host.ports[1])
    assert ok(other.DicomStudyName(study)).name == "osirixgrpc test patient"


def test_osirix_application_rpcs(host: RunningHost) -> None:
    stub = host.stub()
    version = ok(stub.OsirixVersion(Empty()))
    assert version.version.startswith("osirix-tasks") and version.bundle_name
    assert list(ok(stub.OsirixDisplayed2DViewers(Empty())).viewer_controllers) == []
    assert list(ok(stub.OsirixDisplayedVRControllers(Empty())).vr_controllers) == []
    for rpc, message in (
        ("OsirixFrontmostViewer", "No ViewerController active"),
        ("OsirixFrontmostVRController", "No VRController active"),
    ):
        answer = getattr(stub, rpc)(Empty())
        assert (answer.status.status, answer.status.message) == (0, message)


def test_selection_is_set_by_the_user(host: RunningHost, phantom: list[pydicom.Dataset]) -> None:
    stub, browser, study = the_study(host)
    selection = ok(stub.BrowserControllerDatabaseSelection(browser))
    # The study arrived in an empty database: OsiriX's database window selects its first study row.
    assert [s.osirixrpc_uid for s in selection.studies] == [study.osirixrpc_uid] and list(selection.series) == []
    done = host.cli("select", "--study", phantom[0].StudyInstanceUID, "--series", phantom[0].SeriesInstanceUID)
    assert done.returncode == 0, done.stderr
    selection = ok(stub.BrowserControllerDatabaseSelection(browser))
    assert [s.osirixrpc_uid for s in selection.studies] == [study.osirixrpc_uid]
    assert len(selection.series) == 1
    unknown = host.cli("select", "--study", "1.2.3.4")
    assert unknown.returncode == 1 and "no study with StudyInstanceUID 1.2.3.4" in unknown.stderr
    assert host.cli("select", "--clear").returncode == 0
    assert list(ok(stub.BrowserControllerDatabaseSelection(browser)).studies) == []


def test_copy_files_if_needed_imports_in_the_background(
    tmp_path_factory: pytest.TempPathFactory, phantom_dir: Path
) -> None:
    home = tmp_path_factory.mktemp("copyhome")
    with running_host(home, "--empty") as host:
        stub = host.stub()
        browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
        assert list(ok(stub.BrowserControllerDatabaseStudies(browser)).studies) == []
        files = [str(p) for p in sorted(phantom_dir.glob("*.dcm"))[:10]]
        request = browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(browser=browser, paths=files)
        ok(stub.BrowserControllerCopyFilesIfNeeded(request))
        import time

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            studies = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
            if studies and ok(stub.DicomStudyNumberOfImages(studies[0])).no_images == 10:
                break
            time.sleep(0.2)
        [study] = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
        paths = ok(stub.DicomStudyPaths(study)).paths
        assert len(paths) == 10 and all(p.startswith(str(host.database)) and Path(p).is_file() for p in paths)
        missing = stub.BrowserControllerCopyFilesIfNeeded(
            browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(browser=browser, paths=["/no/file.dcm"])
        )
        assert missing.status.status == 0 and "/no/file.dcm" in missing.status.message
        stale = stub.BrowserControllerCopyFilesIfNeeded(
            browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(
                browser=types_pb2.BrowserController(osirixrpc_uid="x"), paths=files
            )
        )
        assert (stale.status.status, stale.status.message) == (0, "No BrowserController cached")
