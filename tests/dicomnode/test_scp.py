"""The host's DICOM node against dcmtk's tools and a pynetdicom peer: echo, store a mixed set, find at
every level, get, move; who is refused; bad datasets; triggers. One host for the module."""

from __future__ import annotations

import json
import os
import stat
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import MPEG2MPML, CTImageStorage, ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.testing import RunningHost, running_host

from .peers import (
    SampleSet,
    assert_same_instance,
    dcmtk,
    index_rows,
    make_image,
    stored_path,
    storescu_profile,
    wait_until,
)

NODE_AET = "OSIRIX_TASKS"
ALLOWED = ["STORESCU", "FINDSCU", "GETSCU", "MOVESCU", "ECHOSCU", "PYNETDICOM"]
STABLE_SECONDS = 2.0


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, int, int]]:
    """A host on an empty database listening as a DICOM node, with movescu's receiver as a known
    destination and a trigger on CT series described "*trigger*"."""
    home = tmp_path_factory.mktemp("home")
    project = tmp_path_factory.mktemp("project")
    (project / "show_target.py").write_text(
        "import os\nprint('TARGET', os.environ.get('OSIRIX_TASKS_TARGET'))\n", encoding="utf-8"
    )
    dicom_port, movescu_port = free_port(), free_port()
    registry = project / "tasks.toml"
    registry.write_text(
        f"""
[dicom]
ae_title = "{NODE_AET}"
allowed_aets = {json.dumps(ALLOWED)}

[[dicom.node]]
name = "movescu"
ae_title = "MOVESCU"
host = "127.0.0.1"
port = {movescu_port}

[[task]]
name = "Show target"
type = "Database"
location = "show_target.py"

[[trigger]]
task = "Show target"
type = "Database"
modality = "CT"
description = "*trigger*"
stable_seconds = {STABLE_SECONDS}

[[trigger]]
task = "No such task"
modality = "XA"
""",
        encoding="utf-8",
    )
    with running_host(
        home, "--empty", "--no-web", "--registry", str(registry), "--dicom-port", str(dicom_port)
    ) as host:
        yield host, dicom_port, movescu_port


@pytest.fixture(scope="module")
def stored(
    node: tuple[RunningHost, int, int], sample_set: SampleSet, tmp_path_factory: pytest.TempPathFactory
) -> SampleSet:
    """The mixed set, sent by storescu over one association, indexed."""
    host, port, _ = node
    profile = storescu_profile(sample_set.files, tmp_path_factory.mktemp("cfg") / "storescu.cfg")
    dcmtk(
        "storescu",
        "-aet",
        "STORESCU",
        "-aec",
        NODE_AET,
        "-xf",
        str(profile),
        "Mixed",
        "127.0.0.1",
        str(port),
        *map(str, sample_set.files),
    )
    uids = [pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID for f in sample_set.files]
    wait_until(lambda: all(stored_path(host.database, uid) for uid in uids))
    return sample_set


def _responses(folder: Path) -> list[Dataset]:
    return [pydicom.dcmread(p) for p in sorted(folder.glob("rsp*.dcm"))]


def _find(port: int, folder: Path, *keys: str, patient_root: bool = False) -> list[Dataset]:
    folder.mkdir(exist_ok=True)
    command = ["findscu", "-aet", "FINDSCU", "-aec", NODE_AET, "-P" if patient_root else "-S", "-X", "-od", str(folder)]
    for key in keys:
        command += ["-k", key]
    dcmtk(*command, "127.0.0.1", str(port))
    return _responses(folder)


def _sent(sample_set: SampleSet) -> list[Dataset]:
    return [pydicom.dcmread(f, stop_before_pixels=True) for f in sample_set.files]


def _received_as_sent(folder: Path, sample_set: SampleSet, chosen: Callable[[Dataset], bool]) -> int:
    """Every file in ``folder`` is one of the ``chosen`` sent instances, all of them came, each equal to
    the one sent; returns how many."""
    received = {pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID: p for p in folder.iterdir()}
    originals = {d.SOPInstanceUID: f for d, f in zip(_sent(sample_set), sample_set.files, strict=True) if chosen(d)}
    assert set(received) == set(originals)
    for uid, path in received.items():
        assert_same_instance(originals[uid], path)
    return len(received)


def test_a_trigger_naming_an_unknown_task_is_reported_at_start(node: tuple[RunningHost, int, int]) -> None:
    host, _, _ = node
    line = next((x for x in host.output if "No such task" in x), "")
    assert "will not run" in line and "'No such task on each series'" in line


def test_echoscu_is_answered(node: tuple[RunningHost, int, int]) -> None:
    _, port, _ = node
    done = dcmtk("echoscu", "-v", "-aet", "ECHOSCU", "-aec", NODE_AET, "127.0.0.1", str(port))
    assert "Received Echo Response (Success)" in done.stdout


def test_storescu_mixed_set_arrives_as_sent(node: tuple[RunningHost, int, int], stored: SampleSet) -> None:
    host, _, _ = node
    syntaxes = {str(pydicom.dcmread(f, stop_before_pixels=True).file_meta.TransferSyntaxUID) for f in stored.files}
    assert len(syntaxes) >= 6  # explicit, implicit, RLE, JPEG 2000, JPEG lossless, JPEG-LS
    for original in stored.files:
        uid = pydicom.dcmread(original, stop_before_pixels=True).SOPInstanceUID
        kept = stored_path(host.database, uid)
        assert kept is not None, original
        assert_same_instance(original, kept)
        assert stat.S_IMODE(os.stat(kept).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(kept.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(host.database / "incoming.noindex").st_mode) == 0o700  # the staging folder
    frames = index_rows(
        host.database,
        "SELECT COUNT(*) FROM images WHERE sop_instance_uid = ?",
        (pydicom.dcmread(stored.folder / "emri_small.dcm").SOPInstanceUID,),
    )
    assert frames[0][0] == 10  # one row per frame, as files imported from disk
    assert not list((host.database / "incoming.noindex").glob("*.dcm"))  # nothing left staged


def test_findscu_patient_level(node: tuple[RunningHost, int, int], stored: SampleSet, tmp_path: Path) -> None:
    _, port, _ = node
    found = _find(
        port,
        tmp_path,
        "QueryRetrieveLevel=PATIENT",
        "PatientID=CT-PATIENT",
        "PatientName",
        "NumberOfPatientRelatedStudies",
        "NumberOfPatientRelatedInstances",
        patient_root=True,
    )
    mine = [d for d in _sent(stored) if d.PatientID == "CT-PATIENT"]
    assert len(found) == 1
    assert str(found[0].PatientName) == "CT^Patient"
    assert int(found[0].NumberOfPatientRelatedStudies) == len({d.StudyInstanceUID for d in mine})
    assert int(found[0].NumberOfPatientRelatedInstances) == len(mine)


def test_findscu_study_level(node: tuple[RunningHost, int, int], stored: SampleSet, tmp_path: Path) -> None:
    _, port, _ = node
    sent = _sent(stored)
    found = _find(
        port,
        tmp_path / "a",
        "QueryRetrieveLevel=STUDY",
        f"StudyInstanceUID={stored.ct_study}",
        "PatientName",
        "StudyDate",
        "ModalitiesInStudy",
        "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
        "AccessionNumber",
    )
    ct = [d for d in sent if d.StudyInstanceUID == stored.ct_study]
    assert len(found) == 1
    answer = found[0]
    assert answer.StudyInstanceUID == stored.ct_study
    assert int(answer.NumberOfStudyRelatedSeries) == len({d.SeriesInstanceUID for d in ct})
    assert int(answer.NumberOfStudyRelatedInstances) == len(ct)
    assert answer.ModalitiesInStudy == "CT"
    assert (answer.StudyDate, answer.AccessionNumber) == (ct[0].StudyDate, ct[0].AccessionNumber)
    # wildcard on the name, date range: the other generated study only
    found = _find(
        port,
        tmp_path / "b",
        "QueryRetrieveLevel=STUDY",
        "PatientName=MR^Pat*",
        "StudyDate=20240101-20241231",
        "StudyInstanceUID",
    )
    assert [d.StudyInstanceUID for d in found] == [stored.mr_study]


def test_findscu_series_level(node: tuple[RunningHost, int, int], stored: SampleSet, tmp_path: Path) -> None:
    _, port, _ = node
    found = _find(
        port,
        tmp_path,
        "QueryRetrieveLevel=SERIES",
        f"StudyInstanceUID={stored.ct_study}",
        "Modality=CT",
        "SeriesInstanceUID",
        "SeriesDescription",
        "NumberOfSeriesRelatedInstances",
    )
    expected = Counter(d.SeriesInstanceUID for d in _sent(stored) if d.StudyInstanceUID == stored.ct_study)
    assert {d.SeriesInstanceUID: int(d.NumberOfSeriesRelatedInstances) for d in found} == dict(expected)


def test_findscu_image_level(node: tuple[RunningHost, int, int], stored: SampleSet, tmp_path: Path) -> None:
    _, port, _ = node
    multi = next(d for d in _sent(stored) if d.get("NumberOfFrames") and d.StudyInstanceUID == stored.mr_study)
    found = _find(
        port,
        tmp_path,
        "QueryRetrieveLevel=IMAGE",
        f"StudyInstanceUID={stored.mr_study}",
        f"SeriesInstanceUID={multi.SeriesInstanceUID}",
        "SOPInstanceUID",
        "SOPClassUID",
        "NumberOfFrames",
        "InstanceNumber",
    )
    assert [(d.SOPInstanceUID, d.SOPClassUID, int(d.NumberOfFrames)) for d in found] == [
        (multi.SOPInstanceUID, multi.SOPClassUID, int(multi.NumberOfFrames))
    ]


def test_getscu_pulls_a_study(node: tuple[RunningHost, int, int], stored: SampleSet, tmp_path: Path) -> None:
    _, port, _ = node
    dcmtk(
        "getscu",
        "-aet",
        "GETSCU",
        "-aec",
        NODE_AET,
        "-S",
        "-k",
        "QueryRetrieveLevel=STUDY",
        "-k",
        f"StudyInstanceUID={stored.ct_study}",
        "-od",
        str(tmp_path),
        "127.0.0.1",
        str(port),
    )
    # compressed ones come uncompressed: getscu proposes only that
    assert _received_as_sent(tmp_path, stored, lambda d: d.StudyInstanceUID == stored.ct_study) == 9


def test_movescu_to_a_known_destination_and_not_to_an_unknown_one(
    node: tuple[RunningHost, int, int], stored: SampleSet, tmp_path: Path
) -> None:
    _, port, movescu_port = node
    sent = _sent(stored)
    rle = next(
        d
        for d in sent
        if d.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5" and d.StudyInstanceUID == stored.ct_study
    )
    dcmtk(
        "movescu",
        "-aet",
        "MOVESCU",
        "-aem",
        "MOVESCU",
        "-aec",
        NODE_AET,
        "+P",
        str(movescu_port),
        "-S",
        "-k",
        "QueryRetrieveLevel=SERIES",
        "-k",
        f"StudyInstanceUID={stored.ct_study}",
        "-k",
        f"SeriesInstanceUID={rle.SeriesInstanceUID}",
        "-od",
        str(tmp_path),
        "127.0.0.1",
        str(port),
    )
    assert _received_as_sent(tmp_path, stored, lambda d: d.SeriesInstanceUID == rle.SeriesInstanceUID) == 2
    unknown = dcmtk(
        "movescu",
        "-aet",
        "MOVESCU",
        "-aem",
        "NOBODY",
        "-aec",
        NODE_AET,
        "-S",
        "-k",
        "QueryRetrieveLevel=STUDY",
        "-k",
        f"StudyInstanceUID={stored.ct_study}",
        "127.0.0.1",
        str(port),
        check=False,
    )
    assert "MoveDestinationUnknown" in unknown.stdout


def test_an_ae_not_allowed_is_refused_and_logged_once(node: tuple[RunningHost, int, int]) -> None:
    host, port, _ = node
    for _ in range(3):
        refused = dcmtk("echoscu", "-aet", "INTRUDER", "-aec", NODE_AET, "127.0.0.1", str(port), check=False)
        assert refused.returncode != 0
        assert "Rejected" in refused.stdout or "rejected" in refused.stdout
    wait_until(lambda: any("INTRUDER" in line for line in host.output))
    lines = [line for line in host.output if "INTRUDER" in line]
    assert len(lines) == 1 and "refused" in lines[0] and "127.0.0.1" in lines[0]
    dcmtk("echoscu", "-aet", "ECHOSCU", "-aec", NODE_AET, "127.0.0.1", str(port))  # still serving


def _pynetdicom_assoc(port: int, *contexts: tuple[str, list[str]]) -> Any:
    ae = AE(ae_title="PYNETDICOM")
    ae.add_requested_context("1.2.840.10008.1.1")
    for sop_class, syntaxes in contexts:
        ae.add_requested_context(sop_class, syntaxes)
    assoc = ae.associate("127.0.0.1", port, ae_title=NODE_AET)
    assert assoc.is_established
    return assoc


def test_a_syntax_we_cannot_decode_is_refused_clearly(node: tuple[RunningHost, int, int]) -> None:
    host, port, _ = node
    assoc = _pynetdicom_assoc(port, (CTImageStorage, [MPEG2MPML]))
    try:
        refused = [cx for cx in assoc.rejected_contexts if cx.abstract_syntax == CTImageStorage]
        assert refused and refused[0].result == 0x04  # transfer syntaxes not supported
        assert assoc.send_c_echo().Status == 0
    finally:
        assoc.release()
    line = wait_until(lambda: next((x for x in host.output if "MPEG2" in x), None))
    assert "cannot decode" in line and "PYNETDICOM" in line


def test_malformed_datasets_are_refused_and_nothing_is_lost(
    node: tuple[RunningHost, int, int], stored: SampleSet, tmp_path: Path
) -> None:
    host, port, _ = node
    before = index_rows(host.database, "SELECT COUNT(*) FROM images")[0][0]
    no_rows = make_image(
        modality="CT",
        study=generate_uid(),
        series=generate_uid(),
        number=1,
        rows=8,
        columns=8,
        patient="Bad^Rows",
        description="no rows",
        sop_class=CTImageStorage,
    )
    del no_rows.Rows
    bomb = make_image(  # a DICOM bomb: 8 x 8 pixels held, 100 frames of 4096 x 4096 declared
        modality="CT",
        study=generate_uid(),
        series=generate_uid(),
        number=1,
        rows=8,
        columns=8,
        patient="Bomb^Declared",
        description="bomb",
        sop_class=CTImageStorage,
    )
    bomb.Rows = bomb.Columns = 4096
    bomb.NumberOfFrames = 100
    garbage = tmp_path / "garbage.dcm"
    meta = Dataset()
    meta.file_meta = pydicom.dataset.FileMetaDataset()
    meta.file_meta.MediaStorageSOPClassUID = CTImageStorage
    meta.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.save_as(garbage, enforce_file_format=True)
    with open(garbage, "ab") as handle:
        handle.write(b"\x08\x00\x18\x00UI\xff\x7f" + b"\xff" * 300)  # an element longer than the file
    from pynetdicom import _config

    assoc = _pynetdicom_assoc(port, (CTImageStorage, [ExplicitVRLittleEndian]))
    try:
        assert assoc.send_c_store(no_rows).Status == 0xC000
        assert assoc.send_c_store(bomb).Status == 0xC000  # the importer's size checks refuse it
        _config.STORE_SEND_CHUNKED_DATASET = True  # send the file's bytes as they are
        try:
            status = assoc.send_c_store(garbage)
        finally:
            _config.STORE_SEND_CHUNKED_DATASET = False
        assert status.Status == 0xC000
    finally:
        assoc.release()
    dcmtk("echoscu", "-aet", "ECHOSCU", "-aec", NODE_AET, "127.0.0.1", str(port))
    assert index_rows(host.database, "SELECT COUNT(*) FROM images")[0][0] == before
    assert not list((host.database / "incoming.noindex").glob("*"))
    first = stored.files[0]
    assert_same_instance(first, stored_path(host.database, pydicom.dcmread(first).SOPInstanceUID))
    assert any("refused instance" in line and "PYNETDICOM" in line for line in host.output)
    assert any("refused instance" in line and "DeclaredTooLarge" in line for line in host.output)


def _runs(host: RunningHost) -> list[dict[str, Any]]:
    done = host.cli("runs", "--json")
    assert done.returncode == 0, done.stderr
    return [r for r in json.loads(done.stdout) if r.get("triggered_by")]


def test_a_trigger_fires_once_per_stable_series_and_not_while_it_arrives(node: tuple[RunningHost, int, int]) -> None:
    host, port, _ = node
    study = generate_uid()
    ct_series, mr_series = generate_uid(), generate_uid()
    common = {"study": study, "rows": 16, "columns": 16, "patient": "Trigger^Test"}
    slices = [
        make_image(
            modality="CT",
            series=ct_series,
            number=n,
            description="please trigger me",
            sop_class=CTImageStorage,
            **common,
        )
        for n in range(1, 4)
    ]
    mr = make_image(
        modality="MR",
        series=mr_series,
        number=1,
        description="trigger me too (MR)",
        sop_class="1.2.840.10008.5.1.4.1.1.4",
        **common,
    )
    assoc = _pynetdicom_assoc(
        port, (CTImageStorage, [ExplicitVRLittleEndian]), ("1.2.840.10008.5.1.4.1.1.4", [ExplicitVRLittleEndian])
    )
    try:
        assert assoc.send_c_store(mr).Status == 0  # matches the description, not the modality
        for ds in slices:  # arriving slowly: each gap shorter than the stable time
            assert assoc.send_c_store(ds).Status == 0
            time.sleep(STABLE_SECONDS * 0.6)
            assert not _runs(host), "fired while the series was still arriving"
    finally:
        assoc.release()
    runs = wait_until(lambda: _runs(host), timeout=30)
    time.sleep(STABLE_SECONDS * 2)  # time enough for a second firing, which must not come
    runs = _runs(host)
    assert len(runs) == 1, runs
    run = runs[0]
    assert run["task_name"] == "Show target"
    assert run["triggered_by"]["series"] == ct_series and run["triggered_by"]["instances"] == 3
    assert run["triggered_by"]["calling_aets"] == ["PYNETDICOM"]
    wait_until(
        lambda: (
            host.cli("runs", "--json")
            and json.loads(host.cli("runs", "--json").stdout)[0]["status"] in ("succeeded", "failed")
        )
    )
    console = host.cli("console", run["id"])
    target = json.loads(console.stdout.split("TARGET ", 1)[1].splitlines()[0])
    assert target == {"study": study, "series": ct_series}
