"""Receiving speed of the host's DICOM node: N CT slices (512x512, 16-bit, uncompressed) sent by
dcmtk's ``storescu`` over one association.

Measured in the same run, on the same files, in turn:

* dcmtk's own ``storescp`` writing them to a folder (the baseline: a C++ receiver, no index);
* our node (``osirix-tasks serve --dicom-port``): the files/s storescu sees (its wall time), and
  the files/s until every slice is indexed in the database (queryable, visible to clients).

The published figure for plain pynetdicom receivers (a storage SCP decoding each dataset and
writing it with pydicom) is about 20 files/s; it is printed for reference, not measured here.

    python benchmarks/bench_dicomnode.py [--count 1000] [--size 512]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from osirix_tasks.client.server_configs import free_port, port_is_listening
from osirix_tasks.host.config import HostConfig
from osirix_tasks.host.spawn import spawn_host
from osirix_tasks.testing.environment import isolated_env

PUBLISHED_PYNETDICOM_FILES_PER_SECOND = 20.0
#: dcmtk leaves Nagle's algorithm on unless TCP_NODELAY is set: with it on, every small message waits
#: for a delayed ACK (about 40 ms), and storescp manages ~20 files/s. Both dcmtk tools get it off: the
#: strongest baseline, and the fastest sender for our node too.
DCMTK_ENV = dict(os.environ, TCP_NODELAY="1")


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_is_listening(port):
        if time.monotonic() > deadline:
            raise SystemExit(f"nothing listens on port {port}")
        time.sleep(0.05)


def make_slices(folder: Path, count: int, size: int) -> list[Path]:
    """``count`` CT slices of one series, written with pydicom."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 3000, size=(size, size), dtype=np.uint16).tobytes()
    study, series = generate_uid(), generate_uid()
    paths = []
    for number in range(1, count + 1):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.PatientName, ds.PatientID, ds.Modality = "Bench^Mark", "BENCH", "CT"
        ds.InstanceNumber, ds.SeriesNumber = number, 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, float(number)], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [0.7, 0.7], 1.0
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = pixels
        path = folder / f"{number:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def send(folder: Path, port: int, called: str) -> float:
    """storescu the whole folder over one association; its wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        ["storescu", "-aec", called, "+sd", "127.0.0.1", str(port), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=DCMTK_ENV,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"storescu failed:\n{done.stdout[-2000:]}")
    return seconds


def run_storescp(folder: Path, work: Path) -> float:
    port = free_port()
    out = Path(tempfile.mkdtemp(prefix="storescp-out-", dir=work))
    receiver = subprocess.Popen(
        ["storescp", "-od", str(out), str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=DCMTK_ENV
    )
    try:
        wait_for_port(port)
        return send(folder, port, "STORESCP")
    finally:
        receiver.terminate()
        receiver.wait(15)


def indexed(database: Path) -> int:
    try:
        with sqlite3.connect(database / "index.sqlite", timeout=30) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM images").fetchone()[0])
    except sqlite3.Error:
        return 0


def run_node(folder: Path, work: Path, count: int) -> tuple[float, float]:
    """Our node in a host of its own (``spawn_host``, as the test kit starts one): storescu's wall
    time, and the time until every slice is indexed."""
    port, grpc_port = free_port(), free_port()
    run = Path(tempfile.mkdtemp(prefix="node-", dir=work))
    home, database = run / "home", run / "db"
    home.mkdir()
    config = HostConfig(
        ports=(grpc_port,),
        database=database,
        empty=True,
        web=False,
        registry=work / "tasks.toml",
        dicom_port=port,
    )
    host = spawn_host(config, env=isolated_env(home), log_path=run / "serve.log")
    try:
        wait_for_port(port)
        started = time.perf_counter()
        sent = send(folder, port, "OSIRIX_TASKS")
        while indexed(database) < count:
            if time.perf_counter() - started > 600:
                raise SystemExit(f"only {indexed(database)} of {count} indexed after 600 s")
            time.sleep(0.02)
        return sent, time.perf_counter() - started
    finally:
        host.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000, help="slices to send (default 1000)")
    parser.add_argument("--size", type=int, default=512, help="rows and columns (default 512)")
    parser.add_argument(
        "--repeat", type=int, default=2, help="rounds, each receiver in turn; the best of each is kept (default 2)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dicomnode-") as tmp:
        work = Path(tmp)
        folder = work / "slices"
        folder.mkdir()
        made = time.perf_counter()
        make_slices(folder, args.count, args.size)
        megabytes = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
        print(
            f"{args.count} CT slices {args.size}x{args.size}, {megabytes:.0f} MB, made in "
            f"{time.perf_counter() - made:.1f} s; storescu over one association, 127.0.0.1, "
            f"best of {args.repeat} rounds each"
        )
        rounds = []
        for _ in range(args.repeat):  # in turn, so both see the same load of this shared machine
            rounds.append((run_storescp(folder, work), *run_node(folder, work, args.count)))
        baseline = min(r[0] for r in rounds)
        sent = min(r[1] for r in rounds)
        indexed_after = min(r[2] for r in rounds)
    rate = {name: args.count / s for name, s in (("storescp", baseline), ("sent", sent), ("indexed", indexed_after))}
    print(f"dcmtk storescp (baseline)          {baseline:7.2f} s  {rate['storescp']:8.1f} files/s")
    print(
        f"our node, as storescu sees it      {sent:7.2f} s  {rate['sent']:8.1f} files/s  "
        f"{rate['sent'] / rate['storescp']:.0%} of storescp (goal: at least 50 %)"
    )
    print(
        f"our node, until all are indexed    {indexed_after:7.2f} s  {rate['indexed']:8.1f} files/s  "
        f"{rate['indexed'] / rate['storescp']:.0%} of storescp"
    )
    print(
        f"published plain pynetdicom receiver         ~{PUBLISHED_PYNETDICOM_FILES_PER_SECOND:.0f} files/s  "
        f"(ours indexed: {rate['indexed'] / PUBLISHED_PYNETDICOM_FILES_PER_SECOND:.1f}x that)"
    )


if __name__ == "__main__":
    main()
