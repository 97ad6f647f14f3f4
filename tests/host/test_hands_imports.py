"""A background import as the user's hands make it (the page's import): the control requests
ImportInBackground and ImportOutcome against a real host. The counts are checked against what
pydicom reads of the files; the host deletes an import's uploads when it ends, and never a file
outside the uploads folder, whatever the request says."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.host.control import HostInfo, live_hosts, send
from osirix_tasks.host.control_protocol import ImportInBackground, ImportOutcome, Reply


def _outcome(info: HostInfo, key: int) -> Reply:
    """The outcome of import ``key`` once it is done."""
    deadline = time.monotonic() + 60
    while True:
        reply = send(info, ImportOutcome(key=key))
        assert reply.ok, reply.message
        if reply.data["done"]:
            return reply
        assert time.monotonic() < deadline, "the import did not end"
        time.sleep(0.1)


def test_a_background_import_tells_its_outcome_and_deletes_only_its_uploads(
    start_host: Callable[..., Any], tmp_path: Path
) -> None:
    demo = generate_demo_series(tmp_path / "demo")
    home = tmp_path / "home"
    batch = home / ".local" / "share" / "osirix-tasks" / "uploads" / "batch1"
    batch.mkdir(parents=True)
    uploaded = [Path(shutil.copy(p, batch / p.name)) for p in demo[:3]]
    kept = demo[3:6]  # the user's own files: named in ``discard`` too, and still never deleted
    notes = tmp_path / "notes.txt"
    notes.write_text("not DICOM\n")
    paths = [str(p) for p in [*uploaded, *kept, notes]]
    instances = {str(pydicom.dcmread(p).SOPInstanceUID) for p in [*uploaded, *kept]}
    with start_host("--empty", home=home) as host:
        info = next(h for h in live_hosts(host.env()) if h.pid == host.process.pid)
        started = send(info, ImportInBackground(paths=paths, discard=paths))
        assert started.ok, started.message
        done = _outcome(info, int(started.data["import"])).data
        assert (done["imported"], done["already_present"], done["skipped"]) == (len(instances), 0, 1)
        assert f"{len(instances)} imported" in done["summary"] and str(notes) in done["summary"]
        assert done["paths"] == paths
        deadline = time.monotonic() + 10
        while batch.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not batch.exists()  # the uploads and their batch folder are gone
        assert all(p.is_file() for p in kept) and notes.is_file()  # nothing else was touched

        again = send(info, ImportInBackground(paths=[str(p) for p in kept]))
        repeat = _outcome(info, int(again.data["import"])).data
        assert (repeat["imported"], repeat["already_present"]) == (0, len(kept))

        unknown = send(info, ImportOutcome(key=10_000))
        assert not unknown.ok and "too old to remember" in unknown.message
