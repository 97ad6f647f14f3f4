"""Import hardening (issue 10 items 2, 4, 5), each reproduced with a real process and real files."""

from __future__ import annotations

import resource
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pydicom
from osirixgrpc import browsercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.testing import isolated_env, running_host


def replicate(folder: Path, count: int, big: int = 0) -> list[Path]:
    """``count`` demo files with their own SOP instance UIDs; the first ``big`` carry 1 MB of padding."""
    template = generate_demo_series(folder.parent / f"template-{folder.name}")
    folder.mkdir()
    datasets = [pydicom.dcmread(p) for p in template]
    out = []
    for n in range(count):
        ds = datasets[n % len(datasets)]
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.10.1458.6.{n}"
        ds.ImageComments = "x" * (1_000_000 if n < big else 0) if n < big else "small"
        ds.save_as(folder / f"{n:05d}.dcm")
        out.append(folder / f"{n:05d}.dcm")
    return out


def cli_import(home: Path, *args: str, preexec=None, timeout: float = 300) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "import", *args],
        capture_output=True,
        text=True,
        env=isolated_env(home),
        timeout=timeout,
        preexec_fn=preexec,
    )


def test_a_2gb_sparse_file_with_a_dicm_header_is_refused_at_once(tmp_path: Path) -> None:
    sparse = tmp_path / "sparse.dcm"
    with open(sparse, "wb") as handle:
        handle.write(b"\0" * 128 + b"DICM")
        handle.truncate(2 * 1024**3)
    started = time.monotonic()
    process = psutil.Popen(
        [sys.executable, "-m", "osirix_tasks", "import", str(sparse), "--database", str(tmp_path / "db")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=isolated_env(tmp_path),
    )
    out, err = process.communicate(timeout=120)
    seconds = time.monotonic() - started
    assert process.returncode == 1 and f"skipped (not DICOM): {sparse}" in out, out + err
    assert seconds < 30, seconds  # before: ~20 minutes of one core (pydicom read the zeros element by element)


def test_copies_and_index_are_owner_only(tmp_path: Path) -> None:
    files = replicate(tmp_path / "files", 3)
    database = tmp_path / "db"
    assert cli_import(tmp_path, str(tmp_path / "files"), "--database", str(database)).returncode == 0
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    copies = [p for p in (database / "DATABASE.noindex").rglob("*") if p.is_file()]
    assert len(copies) == len(files) and {mode(p) for p in copies} == {0o600}
    folders = [database / "DATABASE.noindex", *[p for p in (database / "DATABASE.noindex").rglob("*") if p.is_dir()]]
    assert {mode(p) for p in folders} == {0o700}
    assert {mode(p) for p in database.glob("index.sqlite*")} == {0o600}


def test_a_failed_copy_skips_that_file_reports_it_and_the_import_goes_on(tmp_path: Path) -> None:
    files = replicate(tmp_path / "files", 6, big=1)  # file 0 is 1 MB, the others ~33 kB
    database = tmp_path / "db"
    cli_import(tmp_path, str(files[1]), "--database", str(database))  # the index exists before the limit

    def small_disk() -> None:  # writes past 400 kB fail (EFBIG), as on a nearly full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (400_000, 400_000))

    done = cli_import(tmp_path, str(tmp_path / "files"), "--database", str(database), preexec=small_disk)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"skipped (copy failed): {files[0]}" in done.stdout
    assert "4 imported, 1 already in the database" in done.stdout
    rows = sqlite3.connect(database / "index.sqlite").execute("SELECT path FROM images").fetchall()
    assert len(rows) == 5 and all(Path(p).is_file() for (p,) in rows)


def test_crash_recovery_leaves_another_live_hosts_copies_alone(tmp_path: Path) -> None:
    files = replicate(tmp_path / "files", 4)
    database = tmp_path / "db"
    dead = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
        import os, sys
        from pathlib import Path
        from osirix_tasks.emulator.database.index import Database
        db = Database(Path(sys.argv[1]))
        left = db.files_folder / "0" / "900.dcm"
        db.make_private_folder(left.parent)
        db.journal_copies([left])
        left.write_bytes(b"copied, never committed")
        os._exit(0)  # killed: the marker and its journal stay
    """),
            str(database),
        ],
        env=isolated_env(tmp_path),
        timeout=60,
    )
    assert dead.returncode == 0
    # a live process in the middle of an import batch: copies made, transaction not committed yet
    live = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
        import sys
        from pathlib import Path
        from osirix_tasks.emulator.database.index import Database
        from osirix_tasks.emulator.database.importer import _store, read_header
        db = Database(Path(sys.argv[1]))
        with db.transaction() as conn:
            for name in sys.argv[2:]:
                _store(db, conn, Path(name), read_header(Path(name)), True)
            print("copied", flush=True)
            sys.stdin.readline()
        print("committed", flush=True)
    """),
            str(database),
            *map(str, files),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=isolated_env(tmp_path),
    )
    assert live.stdout is not None and live.stdin is not None
    assert live.stdout.readline().strip() == "copied"
    copies = sorted(p for p in (database / "DATABASE.noindex").rglob("*.dcm") if p.name != "900.dcm")
    assert len(copies) == 4
    # a third process starts now: it recovers after the dead one, while the live one is mid-batch
    recovering = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from osirix_tasks.emulator.database.index import Database; Database(Path(sys.argv[1]))"
            ".close()",
            str(database),
        ],
        env=isolated_env(tmp_path),
    )
    time.sleep(1.5)
    live.stdin.write("\n")
    live.stdin.flush()
    assert live.stdout.readline().strip() == "committed"
    assert live.wait(timeout=60) == 0 and recovering.wait(timeout=60) == 0
    rows = [p for (p,) in sqlite3.connect(database / "index.sqlite").execute("SELECT path FROM images")]
    assert len(rows) == 4 and all(Path(p).is_file() for p in rows)  # the live host's copies survived
    assert not (database / "DATABASE.noindex" / "0" / "900.dcm").exists()  # the dead one's leftover is gone


def test_grpc_imports_share_a_bounded_pool_and_stop_with_the_host(tmp_path: Path) -> None:
    files = replicate(tmp_path / "files", 1500)
    with running_host(tmp_path, "--empty") as host:
        stub = host.stub()
        browser = stub.OsirixCurrentBrowser(Empty()).browser_controller
        process = psutil.Process(host.process.pid)
        before = process.num_threads()
        # The first import (all 1500 files) is still running while the 19 others arrive, so
        # exactly 16 are running or waiting whatever the machine's speed (with 75 files each, a
        # fast machine finished the first before the 17th arrived and accepted it).
        answers = [
            stub.BrowserControllerCopyFilesIfNeeded(
                browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(
                    browser=browser, paths=[str(p) for p in (files if n == 0 else files[n * 75 : (n + 1) * 75])]
                )
            )
            for n in range(20)
        ]
        accepted = [a for a in answers if a.status.status == 1]
        refused = [a for a in answers if a.status.status == 0]
        assert len(accepted) == 16 and all("imports are already waiting" in a.status.message for a in refused)
        assert process.num_threads() <= before + 5  # one import worker (+ gRPC pool warm-up); before: +20
        index = host.database / "index.sqlite"
        deadline = time.monotonic() + 60
        while sqlite3.connect(index).execute("SELECT COUNT(*) FROM images").fetchone()[0] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        started = time.monotonic()
        host.process.send_signal(signal.SIGTERM)
        host.process.wait(timeout=60)
        stopped_in = time.monotonic() - started
    rows = [p for (p,) in sqlite3.connect(index).execute("SELECT path FROM images")]
    assert stopped_in < 10 and 0 < len(rows) < 1200, (stopped_in, len(rows))  # cancelled, not run to the end
    assert all(Path(p).is_file() for p in rows)
