"""Import speed of the embedded OsiriX's database: files/s, headers only and with copy.

The MR phantom (../shared/data/mr-phantom, or the bundled demo series when it is absent) is
replicated to N files with fresh UIDs (one study, one series per 40 files). Baseline measured in
the same run: reading the same headers with pydicom alone, no database.

    python benchmarks/bench_import.py [--files 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

from osirix_tasks.server.database import Database
from osirix_tasks.server.demo import generate_demo_series
from osirix_tasks.server.importer import import_paths

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=2000)
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


if __name__ == "__main__":
    main()
