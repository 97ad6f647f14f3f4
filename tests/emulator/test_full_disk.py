"""Issue 18 item 9 (import): a database on a disk that fills up during an import.

The disk is real: a small tmpfs mounted for the test (root only; skipped otherwise, saying so), so
writes fail with ENOSPC as on a full disk - the copies into DATABASE.noindex, SQLite's WAL, its
commit. Before, the CLI import ended in a raw ``sqlite3.OperationalError`` traceback, a host-side
import failed with nothing but a traceback in the log, and the copies of the failed batch stayed in
the database folder for good (the host's clean exit dropped the journal that named them).
Now: a clear message and exit 1, a summary that counts what is in the index, and no copy that the
index does not name - during the run and after a restart.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.testing import isolated_env, running_host
from tests.helpers import ok

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or os.geteuid() != 0, reason="mounting a small tmpfs needs root on Linux"
)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs: one batch of 64 demo files and its index fit, two do not."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """150 demo files (about 33 KB each, 5 MB in all), each its own instance."""
    root = tmp_path_factory.mktemp("files")
    template = generate_demo_series(root / "demo")
    out = root / "many"
    out.mkdir()
    written = []
    for n in range(150):
        ds = pydicom.dcmread(template[n % len(template)])
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.10.1458.9.{n}"
        ds.save_as(out / f"{n:03d}.dcm")
        written.append(out / f"{n:03d}.dcm")
    return written


def indexed_and_copies(database: Path) -> tuple[set[str], set[str]]:
    """The paths the index names, and the copies in DATABASE.noindex (``.part`` files included)."""
    with sqlite3.connect(database / "index.sqlite") as conn:
        indexed = {p for (p,) in conn.execute("SELECT DISTINCT path FROM images")}
    copies = {str(p) for p in (database / "DATABASE.noindex").rglob("*") if p.is_file()}
    return indexed, copies


def test_a_cli_import_onto_a_full_disk_stops_clearly_and_keeps_no_orphan_copies(
    small_disk: Path, files: list[Path], tmp_path: Path
) -> None:
    database = small_disk / "db"

    ran = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "import", str(files[0].parent), "--database", str(database)],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=300,
    )

    assert ran.returncode == 1, ran.stdout + ran.stderr
    assert "Traceback" not in ran.stderr, ran.stderr
    assert f"error: import stopped: the database at {database} cannot be written" in ran.stderr, ran.stderr
    assert "No space left on device" in ran.stderr and "free some space" in ran.stderr
    imported = int(ran.stdout.split(" imported")[0].rsplit("\n", 1)[-1])
    indexed, copies = indexed_and_copies(database)
    assert 0 < imported < len(files) and len(indexed) == imported  # the summary is the index's truth
    assert copies == indexed  # every copy is indexed; nothing of the failed batch is left
    assert f"{len(files) - imported} file(s) not imported" in ran.stdout

    # After a restart (another process opens the database), still nothing orphaned, nothing lost.
    reopened = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from osirix_tasks.emulator.database.index "
            "import Database; Database(Path(sys.argv[1])).close()",
            str(database),
        ],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=60,
    )
    assert reopened.returncode == 0, reopened.stderr
    assert indexed_and_copies(database) == (indexed, copies)


def test_a_host_side_import_onto_a_full_disk_says_so_and_keeps_no_orphan_copies(
    small_disk: Path, files: list[Path], tmp_path: Path
) -> None:
    database = small_disk / "db"
    with running_host(tmp_path / "home", "--empty", database=database) as host:
        stub = host.stub()
        browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
        request = browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(
            browser=browser, paths=[str(p) for p in files]
        )
        ok(stub.BrowserControllerCopyFilesIfNeeded(request))
        log = host.home / "serve.log"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and "import of 150 path(s)" not in log.read_text():
            time.sleep(0.2)
        text = log.read_text()
        assert "stopped" in text and "No space left on device" in text, text[-2000:]
        assert "Traceback" not in text, text[-3000:]
        indexed, copies = indexed_and_copies(database)
        assert copies == indexed
        assert host.process.poll() is None  # the host goes on serving what it has
        studies = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
        assert len(studies) == (1 if indexed else 0)
    # The host stopped cleanly (its journal is gone): after a restart, still no orphan.
    with running_host(tmp_path / "home2", database=database):
        assert indexed_and_copies(database) == (indexed, copies)
