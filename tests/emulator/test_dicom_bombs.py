"""Issue 18 item 4b: DICOM files whose headers lie about their size are refused before anything is
allocated, named with the reason, by the CLI import and by a real host; the host stays alive and small.

The bombs are made with pydicom: a 34 KB file declaring 2**31 - 1 frames, a 34 KB file declaring
65535 x 65535 pixels, a 1.5 MB deflated file whose dataset inflates to 1.5 GB (its zeros compressed
as they are written), and a tiny file declaring 100,000 frames. Before, the first two killed the
host on import or when their pixels were opened, the deflated one inflated to 1.5 GB in memory, and
the last made 100,000 index rows. Memory is read from /proc (``VmHWM``, the peak; Linux).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty
from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import DeflatedExplicitVRLittleEndian

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.testing import RunningHost, isolated_env, running_host
from tests.helpers import ok, proc_status_mb

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/status"),
    pytest.mark.slow,  # the deflate bomb: 1.5 GB of zeros compressed
]

MB = 1_000_000
#: What a process may grow by, at its peak, while it refuses the bombs.
ALLOWED_PEAK_MB = 250


def small_image(template: Path, sop_uid: str) -> pydicom.Dataset:
    """A real demo slice (128 x 128, 16 bits) with its own SOPInstanceUID and series."""
    ds = pydicom.dcmread(template)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.SeriesInstanceUID = sop_uid + ".1"
    return ds


def deflate_bomb(path: Path, template: Path, side: int, frames: int) -> None:
    """A deflated file of ``frames`` ``side`` x ``side`` 16-bit frames of zeros: header by pydicom, pixel
    data element and its zeros streamed through zlib (the inflated dataset is never held in memory)."""
    ds = small_image(template, "1.2.826.0.1.3680043.10.1458.18.3")
    del ds.PixelData
    ds.Rows = ds.Columns = side
    ds.NumberOfFrames = frames
    meta = FileMetaDataset(ds.file_meta)
    meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    head = DicomBytesIO()
    head.is_little_endian, head.is_implicit_VR = True, False
    write_dataset(head, ds)
    length = side * side * 2 * frames
    element = b"\xe0\x7f\x10\x00OW\x00\x00" + length.to_bytes(4, "little")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    with open(path, "wb") as out:
        preamble = DicomBytesIO()
        preamble.write(b"\0" * 128 + b"DICM")
        write_file_meta_info(preamble, meta, enforce_standard=True)
        out.write(preamble.getvalue())
        out.write(compressor.compress(head.getvalue() + element))
        zeros = bytes(1 << 24)
        left = length
        while left:
            out.write(compressor.compress(zeros[: min(left, len(zeros))]))
            left -= min(left, len(zeros))
        out.write(compressor.flush())


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("bombs")
    template = generate_demo_series(root / "demo")[0]
    folder = root / "bombs"
    folder.mkdir()
    frames = small_image(template, "1.2.826.0.1.3680043.10.1458.18.1")
    frames.NumberOfFrames = 2**31 - 1
    frames.ImageComments = "x" * 1000  # 34 KB in all, one real frame
    frames.save_as(folder / "frames.dcm")
    huge = small_image(template, "1.2.826.0.1.3680043.10.1458.18.2")
    huge.Rows = huge.Columns = 65535
    huge.save_as(folder / "rows-columns.dcm")
    deflate_bomb(folder / "deflated.dcm", template, 512, 2861)  # 1.5 GB of pixel data
    many = small_image(template, "1.2.826.0.1.3680043.10.1458.18.4")
    many.Rows = many.Columns = 8
    many.BitsAllocated, many.BitsStored, many.HighBit = 8, 8, 7
    many.PixelData = bytes(64)
    many.NumberOfFrames = 100_000
    many.save_as(folder / "many-frames.dcm")
    sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
    assert sizes["frames.dcm"] < 40_000 and sizes["rows-columns.dcm"] < 40_000, sizes
    assert sizes["deflated.dcm"] < 2 * MB, sizes
    control = root / "control"
    control.mkdir()
    small_image(template, "1.2.826.0.1.3680043.10.1458.18.5").save_as(control / "control.dcm")
    return {"folder": folder, "control": control}


#: ``osirix-tasks ARGS`` that prints its own peak resident memory on the way out (VmHWM: ru_maxrss would
#: count the forking parent's, Linux keeps it across exec).
MEASURED_CLI = (
    "import atexit, runpy, sys; "
    "atexit.register(lambda: print('peak KiB', [l.split()[1] for l in open('/proc/self/status') "
    "if l.startswith('VmHWM')][0], file=sys.stderr)); "
    "sys.argv = ['osirix-tasks', *sys.argv[1:]]; runpy.run_module('osirix_tasks', run_name='__main__')"
)

REASONS = {
    "frames.dcm": "declares 2,147,483,647 frame(s) of 128 x 128 pixels",
    "rows-columns.dcm": "one frame of 65535 x 65535 pixels x 1 sample(s) takes 32.0 GiB to decode, more than "
    "the 1.0 GiB one decode may allocate",
    "deflated.dcm": "deflated: its 1.4 GiB of pixel data are inflated as a whole to decode a frame, more than "
    "the 1.0 GiB",
    "many-frames.dcm": "declares 100,000 frame(s) of 8 x 8 pixels",
}


def test_the_cli_import_skips_each_bomb_naming_why_and_stays_small(bombs: dict[str, Path], tmp_path: Path) -> None:
    database = tmp_path / "db"
    ran = subprocess.run(
        [sys.executable, "-c", MEASURED_CLI, "import", str(bombs["folder"]), str(bombs["control"])]
        + ["--database", str(database)],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=300,
    )
    peak = int(ran.stderr.rsplit("peak KiB ", 1)[1].split()[0]) * 1024 / MB

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "1 imported" in ran.stdout and "4 too large" in ran.stdout, ran.stdout
    for name, reason in REASONS.items():
        assert f"skipped (too large): {bombs['folder'] / name} ({reason}" in ran.stdout, (name, ran.stdout)
    with sqlite3.connect(database / "index.sqlite") as conn:
        assert conn.execute("SELECT COUNT(*) FROM images").fetchone() == (1,)
    assert peak < 400  # the whole CLI process, Python and pydicom included


def test_a_host_refuses_the_bombs_it_is_asked_to_import_and_stays_alive(bombs: dict[str, Path], tmp_path: Path) -> None:
    with running_host(tmp_path, "--demo") as host:
        stub = host.stub()
        pid = host.process.pid
        time.sleep(0.5)
        before = proc_status_mb(pid)
        browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
        paths = [str(bombs["folder"] / name) for name in REASONS]
        request = browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(browser=browser, paths=paths)
        ok(stub.BrowserControllerCopyFilesIfNeeded(request))

        deadline = time.monotonic() + 120
        log = host.home / "serve.log"
        while time.monotonic() < deadline and "import of 4 path(s)" not in log.read_text():
            time.sleep(0.2)
        text = log.read_text()
        for name, reason in REASONS.items():
            assert f"skipped (too large): {bombs['folder'] / name} ({reason}" in text, (name, text[-3000:])
        assert host.process.poll() is None
        assert len(ok(stub.BrowserControllerDatabaseStudies(browser)).studies) == 1  # the demo study alone
        assert proc_status_mb(pid) - before < ALLOWED_PEAK_MB


@pytest.fixture
def indexed_bomb(bombs: dict[str, Path], tmp_path: Path) -> Iterator[RunningHost]:
    """A host (default decode bound) on a database that indexed the 65535 x 65535 file under a bound
    raised far beyond the machine (as an older version, without the bound, did)."""
    database = tmp_path / "db"
    ran = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "import", str(bombs["folder"] / "rows-columns.dcm")]
        + ["--database", str(database), "--max-decode-mb", "1000000"],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=120,
    )
    assert ran.returncode == 0 and "1 imported" in ran.stdout, ran.stdout + ran.stderr
    with running_host(tmp_path, database=database) as host:
        yield host


def test_opening_the_pixels_of_an_indexed_bomb_is_refused_and_the_host_stays_alive(
    indexed_bomb: RunningHost,
) -> None:
    host = indexed_bomb
    stub = host.stub()
    pid = host.process.pid
    before = proc_status_mb(pid)
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    [study] = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
    [series] = ok(stub.DicomStudySeries(study)).series
    images = ok(stub.DicomSeriesSortedImages(series)).sorted_images
    frame = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=images)
    request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(browser=browser, frames=[frame])

    viewer = ok(stub.BrowserControllerOpenViewerFromImages(request)).viewer  # pixels are read when asked for
    pix = ok(stub.ViewerControllerCurDCM(viewer)).pix

    answer = stub.DCMPixImage(pix)

    assert answer.status.status == 0
    assert "65535 x 65535 plane takes 32.0 GiB to decode" in answer.status.message, answer.status.message
    assert str(host.database / "DATABASE.noindex") in answer.status.message  # the file is named
    assert host.process.poll() is None
    assert proc_status_mb(pid) - before < ALLOWED_PEAK_MB
    assert json.loads(host.cli("db", "studies", "--json").stdout)  # still serving
