"""What the DICOM node's tests share: a mixed set of DICOM files (several modalities, compressed and
uncompressed, one multi-frame), dcmtk's tools, Orthanc as a PACS, and readers of the host's index.
The fixtures built on them are in ``conftest.py``; whoever starts a process stops it.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    MRImageStorage,
    RLELossless,
    generate_uid,
)

from osirix_tasks.client.server_configs import free_port, port_is_listening

#: The peers' programs (Debian packages dcmtk and orthanc; .ci/run installs them).
TOOLS = ("echoscu", "storescu", "findscu", "getscu", "movescu", "dcmcjpeg", "Orthanc")
TOOL_TIMEOUT = 120


def dcmtk(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a dcmtk tool; its output (both streams) in ``stdout``."""
    done = subprocess.run(
        list(args),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        timeout=TOOL_TIMEOUT,
    )
    if check:
        assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{done.stdout[-4000:]}"
    return done


def make_image(
    *,
    modality: str,
    study: str,
    series: str,
    number: int,
    rows: int,
    columns: int,
    patient: str,
    description: str,
    sop_class: str,
    syntax: str = ExplicitVRLittleEndian,
    frames: int = 1,
    seed: int = 0,
) -> Dataset:
    rng = np.random.default_rng(seed)
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian if syntax != ImplicitVRLittleEndian else syntax
    ds.SOPClassUID = sop_class
    ds.PatientName, ds.PatientID = patient, patient.replace("^", "-").upper()
    ds.PatientBirthDate, ds.PatientSex = "19700101", "O"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240315", "101500", "1", "ACC1"
    ds.StudyDescription, ds.SeriesDescription = f"{modality} study", description
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, 1, number
    ds.ImagePositionPatient = [0.0, 0.0, float(number)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing, ds.SliceThickness = [0.5, 0.5], 1.0
    ds.Rows, ds.Columns = rows, columns
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    shape = (frames, rows, columns) if frames > 1 else (rows, columns)
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.PixelData = rng.integers(0, 4000, size=shape, dtype=np.uint16).tobytes()
    if syntax in (RLELossless, JPEG2000Lossless):
        ds.compress(syntax)
    return ds


@dataclass
class SampleSet:
    """The mixed set: every file, and the study UIDs of the generated studies."""

    folder: Path
    files: list[Path]
    ct_study: str
    mr_study: str


def write_series(folder: Path, count: int, **fields: Any) -> list[Path]:
    """``count`` generated images of one series (fields as :func:`_image`), written to ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        ds = make_image(number=number, seed=number, **fields)
        path = folder / f"{fields['modality']}-{number:04d}-{ds.SOPInstanceUID[-8:]}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def make_sample_set(folder: Path) -> SampleSet:
    """CT (uncompressed, RLE, JPEG 2000, dcmcjpeg's JPEG lossless), MR (implicit VR, multi-frame), and
    pydicom-data's CT, JPEG 2000 NM secondary capture, RLE RGB, JPEG-LS MR and multi-frame enhanced MR."""
    from pydicom.data import get_testdata_file

    ct_study, mr_study = generate_uid(), generate_uid()
    ct = {
        "modality": "CT",
        "study": ct_study,
        "patient": "CT^Patient",
        "sop_class": CTImageStorage,
        "rows": 64,
        "columns": 64,
    }
    files = write_series(folder / "ct-plain", 3, series=generate_uid(), description="plain", **ct)
    files += write_series(folder / "ct-rle", 2, series=generate_uid(), description="rle", syntax=RLELossless, **ct)
    files += write_series(folder / "ct-j2k", 2, series=generate_uid(), description="j2k", syntax=JPEG2000Lossless, **ct)
    jpeg_source = write_series(folder / "ct-jpeg-src", 2, series=generate_uid(), description="jpeg lossless", **ct)
    (folder / "ct-jpeg").mkdir()
    for path in jpeg_source:
        target = folder / "ct-jpeg" / path.name
        dcmtk("dcmcjpeg", str(path), str(target))  # JPEG lossless, first-order prediction (dcmtk's default)
        path.unlink()
        files.append(target)
    mr = {
        "modality": "MR",
        "study": mr_study,
        "patient": "MR^Patient",
        "sop_class": MRImageStorage,
        "rows": 32,
        "columns": 48,
    }
    files += write_series(
        folder / "mr-implicit", 2, series=generate_uid(), description="implicit", syntax=ImplicitVRLittleEndian, **mr
    )
    files += write_series(folder / "mr-frames", 1, series=generate_uid(), description="multi-frame", frames=5, **mr)
    for name in ("CT_small.dcm", "JPEG2000.dcm", "SC_rgb_rle.dcm", "MR_small_jpeg_ls_lossless.dcm", "emri_small.dcm"):
        ds = pydicom.dcmread(get_testdata_file(name))
        if name == "MR_small_jpeg_ls_lossless.dcm":  # the same instance as JPEG2000.dcm: a UID of its own
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(folder / name)
        files.append(folder / name)
    return SampleSet(folder, files, ct_study, mr_study)


def storescu_profile(files: list[Path], path: Path) -> Path:
    """A storescu configuration proposing each file's SOP class in its own transfer syntax and in
    Explicit VR Little Endian, so one association carries the whole mixed set as it is."""
    pairs: dict[str, set[str]] = {}
    for file in files:
        ds = pydicom.dcmread(file, stop_before_pixels=True)
        pairs.setdefault(str(ds.SOPClassUID), set()).update(
            {str(ds.file_meta.TransferSyntaxUID), ExplicitVRLittleEndian}
        )
    syntaxes = sorted({s for group in pairs.values() for s in group})
    lines = ["[[TransferSyntaxes]]"]
    for index, syntax in enumerate(syntaxes):
        lines += [f"[TS{index}]", f"TransferSyntax1 = {syntax}"]
    lines += ["[[PresentationContexts]]", "[Mixed]"]
    number = 1
    for sop_class, group in pairs.items():
        for syntax in sorted(group):
            lines.append(f"PresentationContext{number} = {sop_class}\\TS{syntaxes.index(syntax)}")
            number += 1
    lines += ["[[Profiles]]", "[Mixed]", "PresentationContexts = Mixed"]
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Wait until something listens on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while not port_is_listening(port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
        time.sleep(0.05)


@dataclass
class Orthanc:
    """A running Orthanc: its DICOM AE and port, its HTTP port."""

    process: subprocess.Popen[bytes]
    aet: str
    port: int
    http_port: int
    folder: Path

    def rest(self, path: str) -> Any:
        """GET Orthanc's REST API (JSON)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}", timeout=30) as answer:
            return json.loads(answer.read())

    def upload(self, path: Path) -> None:
        """Store a file in Orthanc through its REST API."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.http_port}/instances", data=path.read_bytes(), method="POST"
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()


def start_orthanc(folder: Path, modalities: dict[str, list[Any]]) -> Orthanc:
    """Orthanc on 127.0.0.1 with a temporary configuration and storage, knowing ``modalities``."""
    port, http_port = free_port(), free_port()
    folder.mkdir(parents=True, exist_ok=True)
    config = {
        "Name": "osirix-tasks-test",
        "StorageDirectory": str(folder / "storage"),
        "IndexDirectory": str(folder / "storage"),
        "DicomAet": "ORTHANC",
        "DicomPort": port,
        "HttpPort": http_port,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomCheckCalledAet": False,
        "DicomModalities": modalities,
        "DicomAlwaysAllowEcho": True,
        "DicomAlwaysAllowStore": True,
        "Plugins": [],
        "StableAge": 1,
        "ConcurrentJobs": 1,
    }
    (folder / "orthanc.json").write_text(json.dumps(config))
    log = open(folder / "orthanc.log", "wb")  # noqa: SIM115 - kept open while Orthanc runs
    process = subprocess.Popen(["Orthanc", str(folder / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        wait_for_port(http_port)
    except TimeoutError:
        process.kill()
        process.wait()
        raise AssertionError((folder / "orthanc.log").read_text(errors="replace")[-4000:]) from None
    return Orthanc(process, "ORTHANC", port, http_port, folder)


def stop(process: subprocess.Popen[Any]) -> None:
    """Terminate a process we started, then kill it if it lingers."""
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def index_rows(database: Path, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of the host's index, read with sqlite3 (as any other reader would)."""
    import sqlite3

    with sqlite3.connect(database / "index.sqlite", timeout=30) as conn:
        return list(conn.execute(sql, args))


def stored_path(database: Path, sop_instance_uid: str) -> Path | None:
    """Where the host keeps the instance, or None."""
    rows = index_rows(database, "SELECT path FROM images WHERE sop_instance_uid = ? LIMIT 1", (sop_instance_uid,))
    return Path(rows[0][0]) if rows else None


def assert_same_instance(original: Path, stored: Path) -> None:
    """The stored file holds the sent instance: key attributes and decoded pixel data."""
    sent, kept = pydicom.dcmread(original), pydicom.dcmread(stored)
    for keyword in (
        "SOPInstanceUID",
        "SOPClassUID",
        "StudyInstanceUID",
        "SeriesInstanceUID",
        "PatientID",
        "PatientName",
        "Modality",
        "Rows",
        "Columns",
    ):
        assert kept.get(keyword) == sent.get(keyword), (keyword, original)
    assert int(kept.get("NumberOfFrames", 1) or 1) == int(sent.get("NumberOfFrames", 1) or 1)
    np.testing.assert_array_equal(kept.pixel_array, sent.pixel_array, err_msg=str(original))


def wait_until(predicate: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something true (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {predicate}")
        time.sleep(interval)
