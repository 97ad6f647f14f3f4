"""Import speed of the embedded OsiriX's database: files/s, headers only and with copy.

The MR phantom (../shared/data/mr-phantom, or the bundled demo series when it is absent) is
replicated to N files with fresh UIDs (one study, one series per 40 files). Baseline measured in
the same run: reading the same headers with pydicom alone, no database.

A second part times a compressed series: 300 JPEG 2000 (lossless) slices of 512x512 16-bit CT-like
images, encoded here with pylibjpeg-openjpeg, imported headers-only, then opened in a viewer:
time to open, to fetch one plane, and to fetch every plane (pixels are decoded per plane, lazily).

    python benchmarks/bench_import.py [--files 2000] [--slices 300]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import generate_uid

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.emulator.database.importer import import_paths
from osirix_tasks.emulator.database.index import Database

PHANTOM = Path(__file__).resolve().parents[2] / "shared" / "data" / "mr-phantom"


def replicate(sources: list[Path], folder: Path, count: int) -> list[Path]:
    datasets = [pydicom.dcmread(p) for p in sources]
    study = generate_uid()
    files = []
    for n in range(count):
        ds = datasets[n % len(datasets)]
        if n % len(datasets) == 0:
            series = generate_uid()
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        path = folder / f"{n:05d}.dcm"
        ds.save_as(path)
        files.append(path)
    return files


def j2k_series(folder: Path, slices: int) -> None:
    """``slices`` JPEG 2000 lossless CT slices (512x512, 12 bits stored) of one series."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, JPEG2000Lossless

    folder.mkdir()
    study, series = generate_uid(), generate_uid()
    y, x = np.mgrid[0:512, 0:512]
    for index in range(slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{index:04d}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = study, series, "CT"
        ds.PatientName, ds.PatientID, ds.InstanceNumber = "Bench^J2K", "J2K", index + 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, index * 1.25], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [0.7, 0.7], 1, -1024
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.Rows, ds.Columns = 1, "MONOCHROME2", 512, 512
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        body = ((x - 256) ** 2 + (y - 256) ** 2 < (200 - index % 50) ** 2) * 1000
        noise = (x * 7 + y * 13 + index * 31) % 64
        ds.PixelData = (body + noise + 24).astype(np.uint16).tobytes()
        ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
        ds.save_as(folder / f"{index:04d}.dcm", enforce_file_format=True)


def compressed_series(root: Path, slices: int) -> None:
    """Open a JPEG 2000 series; fetch one plane, then all."""
    from osirix_tasks.emulator.workspace import open_viewer

    start = time.perf_counter()
    j2k_series(root / "j2k", slices)
    made = time.perf_counter() - start
    db = Database(root / "db-j2k")
    start = time.perf_counter()
    import_paths(db, [root / "j2k"], copy=False)
    indexed = time.perf_counter() - start
    [series] = db.series_of(db.studies()[0].id)
    ids = [i.id for i in db.images_of(series.id)]
    start = time.perf_counter()
    viewer = open_viewer(db, [ids])
    opened = time.perf_counter() - start
    start = time.perf_counter()
    _ = viewer.frames[0][slices // 2].data  # decoded on first read
    one = time.perf_counter() - start
    start = time.perf_counter()
    for pix in viewer.frames[0]:
        _ = pix.data
    every = time.perf_counter() - start
    print(
        f"{slices}-slice JPEG 2000 series (512x512, encoded in {made:.1f} s): import {indexed:.2f} s, "
        f"open a viewer {opened * 1000:.0f} ms, fetch one plane {one * 1000:.1f} ms, "
        f"fetch all planes {every:.2f} s ({every / slices * 1000:.1f} ms per plane)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--slices", type=int, default=300)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sources = sorted(PHANTOM.glob("*.dcm")) if PHANTOM.is_dir() else generate_demo_series(root / "demo")
        source_name = "MR phantom" if PHANTOM.is_dir() else "demo series"
        files = replicate(sources, root / "files" if (root / "files").mkdir() is None else root, options.files)
        size_mb = sum(p.stat().st_size for p in files) / 1e6

        start = time.perf_counter()
        for path in files:
            pydicom.dcmread(path, stop_before_pixels=True)
        baseline = time.perf_counter() - start

        results = {}
        for label, copy in (("headers only (index in place)", False), ("with copy into the database", True)):
            db = Database(root / f"db-{copy}")
            start = time.perf_counter()
            summary = import_paths(db, [root / "files"], copy=copy)
            results[label] = time.perf_counter() - start
            assert summary.imported == options.files, summary
    print(f"{options.files} files ({size_mb:.0f} MB) replicated from the {source_name}")
    print(f"baseline pydicom header read only: {options.files / baseline:8.0f} files/s ({baseline:.2f} s)")
    for label, seconds in results.items():
        print(
            f"import, {label:31s}: {options.files / seconds:8.0f} files/s ({seconds:.2f} s), "
            f"{seconds / baseline:.2f}x the header-read time"
        )
    if options.slices:
        with tempfile.TemporaryDirectory() as tmp:
            compressed_series(Path(tmp), options.slices)


if __name__ == "__main__":
    main()
