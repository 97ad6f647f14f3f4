"""The console store under load and at size (issue 10 item 8, issue 13.5): clearing while runs
write, the space given back, the per-run output cap and its migration, streamed --json/--save,
and the capture's UTF-8 decoding. Real runs, real supervisors, the real SQLite file."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from osirix_tasks.batch.records import BatchRecords
from osirix_tasks.run.store import RunStore
from osirix_tasks.run.store_schema import SCHEMA_VERSION
from osirix_tasks.testing import Project
from osirix_tasks.testing.project import output_text

MiB = 2**20


def store_file(project: Project) -> Path:
    return project.root / ".local" / "share" / "osirix-tasks" / "runs.sqlite"


def on_disk(path: Path) -> int:
    """Bytes of the SQLite file and its write-ahead log, as the file system reports them."""
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def loud_script(megabytes: int, stderr_every: int = 0) -> str:
    """A script printing ``megabytes`` MiB of 1 KiB lines (and a stderr line every N MiB)."""
    extra = f"\n    if i % {stderr_every} == 0: sys.stderr.buffer.write(b'warn\\n')" if stderr_every else ""
    return (
        "import sys\n"
        "block = (('x' * 1023 + '\\n') * 1024).encode()\n"
        f"for i in range({megabytes}):\n"
        f"    sys.stdout.buffer.write(block){extra}\n"
    )


#: A writer as a busy supervisor is: it holds the store's write lock for a while at each commit
#: (a large chunk, a checkpoint's fsync on a slow disk).
SLOW_WRITER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
end, seq = time.monotonic() + float(sys.argv[3]), 0
while time.monotonic() < end:
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO output VALUES (?, ?, 1, ?, ?)", (sys.argv[2], seq, time.time(), "z" * 99 + "\\n"))
    time.sleep(0.15)
    conn.execute("COMMIT")
    seq += 1
    time.sleep(0.01)
"""


def test_clear_does_not_fail_while_runs_write(project: Project) -> None:
    project.script(
        "chatty",
        """
        import os, sys, time
        while not os.path.exists("../stop"):  # the test says when
            time.sleep(0.002)
            sys.stdout.write(("y" * 200 + "\\n") * 20); sys.stdout.flush()
            sys.stderr.write("e\\n"); sys.stderr.flush()
        """,
    )
    project.script("quick", "print('done')\n")
    chatty = project.cli("run", "chatty", "--background", check=True).stdout.strip()
    store = RunStore(store_file(project))
    slow = "slow-writer-run"
    spec = {"name": "slow", "type": "Database", "location": "-"}
    store.create(
        slow, spec=spec, command=["-"], cwd="/", env={}, server=None, blocking=False, background=True, timeout=None
    )
    writer = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(store_file(project)), slow, "8"])
    time.sleep(0.5)
    for _ in range(4):  # what a user types while the runs write
        project.cli("run", "quick", check=True)
        done = project.cli("console", "--clear")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Cleared 1 finished run(s).\n"), done.stdout
    running = {r.id for r in store.running()}
    (project.root / "stop").touch()
    assert {chatty, slow} <= running  # running runs are kept, with their output
    assert writer.wait(timeout=60) == 0
    assert {c.text for c in store.output(slow)} == {"z" * 99 + "\n"}
    project.wait(chatty)
    text = output_text(project.output(chatty), "stdout")
    assert text and set(text) == {"y", "\n"} and len(text) % 201 == 0
    store.close()


def test_clear_gives_the_space_back(project: Project) -> None:
    project.script("loud", loud_script(20))
    for _ in range(3):
        project.cli("run", "loud", check=True)
    path = store_file(project)
    before = on_disk(path)
    assert before > 60 * MiB
    done = project.cli("console", "--clear", check=True)
    after = on_disk(path)
    assert after < 2 * MiB, f"{before} -> {after} bytes"
    assert done.stdout.startswith("Cleared 3 finished run(s).\nThe store went from")
    assert project.runs() == []


def test_output_past_the_cap_is_dropped_and_the_run_says_so(project: Project) -> None:
    project.cli("console", "--max-output", "1", check=True)
    project.script("loud", loud_script(3))
    project.cli("run", "loud", check=True)
    [record] = project.runs()
    assert record["output_dropped"] == 2 * MiB
    output = project.output(record["id"])
    assert len(output_text(output, "stdout")) == 1 * MiB
    assert "The output went past 1 MB: the rest is not kept" in output_text(output, "system")
    # The line comes right after the last kept output, and the run's end is still recorded after it.
    assert [c["stream"] for c in output["output"]][-2:] == ["stdout", "system"]
    last = output["output"][-1]["text"]
    assert last.index("went past 1 MB") < last.index("Task finished") and last.rstrip().endswith("(exit code 0)")


_V0 = """
    PRAGMA journal_mode=WAL;
    CREATE TABLE runs (id TEXT PRIMARY KEY, task_name TEXT NOT NULL, task_type TEXT NOT NULL,
        spec TEXT NOT NULL, command TEXT NOT NULL, cwd TEXT NOT NULL, env TEXT NOT NULL DEFAULT '{}',
        server TEXT, blocking INTEGER NOT NULL DEFAULT 0, background INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL, pid INTEGER, supervisor_pid INTEGER, started REAL NOT NULL, ended REAL,
        exit_code INTEGER, signal INTEGER, cancelled INTEGER NOT NULL DEFAULT 0,
        timed_out INTEGER NOT NULL DEFAULT 0, timeout REAL, message TEXT);
    CREATE TABLE output (run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, seq INTEGER NOT NULL,
        stream INTEGER NOT NULL, at REAL NOT NULL, text TEXT NOT NULL, PRIMARY KEY (run_id, seq));
    INSERT INTO runs (id, task_name, task_type, spec, command, cwd, status, started, ended, exit_code)
        VALUES ('20250101-000000-abcdef', 'Old', 'Database', '{"name": "Old"}', '["x"]', '/', 'succeeded',
                1.0, 2.0, 0);
    INSERT INTO output VALUES ('20250101-000000-abcdef', 0, 1, 1.5, 'kept from before');
"""
# Version 1: the output cap (a column and the settings table).
_V1 = (
    _V0
    + """
    ALTER TABLE runs ADD COLUMN output_dropped INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO settings VALUES ('max_output_bytes', '3145728');
    PRAGMA user_version=1;
"""
)
# Version 2 (main): the heartbeat and the output lost to a full disk.
_V2 = (
    _V1
    + """
    ALTER TABLE runs ADD COLUMN seen REAL;
    ALTER TABLE runs ADD COLUMN output_lost INTEGER NOT NULL DEFAULT 0;
    UPDATE runs SET seen = 1.75, output_lost = 42;
    PRAGMA user_version=2;
"""
)
# Version 3 (main): what a DICOM node's trigger started.
_V3 = (
    _V2
    + """
    ALTER TABLE runs ADD COLUMN triggered_by TEXT;
    UPDATE runs SET triggered_by = '{"trigger": "CT arrives"}';
    PRAGMA user_version=3;
"""
)
# The batch branch's store before its merge: numbered 2 with the batch tables, without main's columns.
_V2_BATCH = (
    _V1
    + """
    CREATE TABLE batches (id TEXT PRIMARY KEY, task_name TEXT NOT NULL, task_type TEXT NOT NULL, spec TEXT NOT NULL,
        registry TEXT NOT NULL, server TEXT, options TEXT NOT NULL DEFAULT '{}', selection TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL, driver_pid INTEGER, created REAL NOT NULL, ended REAL,
        cancelled INTEGER NOT NULL DEFAULT 0, message TEXT);
    CREATE TABLE batch_items (batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
        target TEXT NOT NULL, ids TEXT NOT NULL DEFAULT '{}', status TEXT NOT NULL, exit_code INTEGER,
        signal INTEGER, started REAL, ended REAL, attempts INTEGER NOT NULL DEFAULT 0, worker TEXT, run_id TEXT,
        result TEXT, message TEXT, PRIMARY KEY (batch_id, idx));
    CREATE TABLE batch_runs (run_id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, idx INTEGER NOT NULL);
    INSERT INTO batches (id, task_name, task_type, spec, registry, status, created, ended)
        VALUES ('20250101-000000-b12345', 'Old', 'Database', '{"name": "Old"}', '/r/tasks.toml', 'succeeded', 1.0, 2.0);
    INSERT INTO batch_items (batch_id, idx, target, status, attempts, run_id)
        VALUES ('20250101-000000-b12345', 0, '{"series":"1.2.3"}', 'succeeded', 1, '20250101-000000-abcdef');
    INSERT INTO batch_runs VALUES ('20250101-000000-abcdef', '20250101-000000-b12345', 0);
    PRAGMA user_version=2;
"""
)


@pytest.mark.parametrize("old_store", [_V0, _V1, _V2, _V3, _V2_BATCH], ids=["v0", "v1", "v2", "v3", "v2-batch-branch"])
def test_a_store_of_an_earlier_version_is_migrated(tmp_path: Path, old_store: str) -> None:
    path = tmp_path / "runs.sqlite"
    old = sqlite3.connect(path)
    old.executescript(old_store)
    old.close()
    store = RunStore(path)
    record = store.get("20250101-000000-abcdef")
    assert record is not None and record.output_dropped == 0 and record.task_name == "Old"
    lost_seen = (42, 1.75) if old_store in (_V2, _V3) else (0, None)
    assert (record.output_lost, record.seen) == lost_seen
    assert record.triggered_by == ({"trigger": "CT arrives"} if old_store is _V3 else None)
    assert [c.text for c in store.output(record.id)] == ["kept from before"]
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert store.max_output_bytes() == (128 * MiB if old_store is _V0 else 3 * MiB)
    batches = BatchRecords(store)  # version 4: the batch records
    if old_store is _V2_BATCH:
        [item] = batches.items(batches.get().id)
        assert (item.target.series, item.status) == ("1.2.3", "succeeded")
        assert batches.item_of_run(record.id) == ("20250101-000000-b12345", 0)
    else:
        assert batches.batches() == [] and batches.item_of_run(record.id) is None
    store.close()
    assert RunStore(path).get(record.id) == record  # opening it again changes nothing


def test_a_version_2_store_gains_triggered_by_and_keeps_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    store = RunStore(path)
    store.create(
        "r1",
        spec={"name": "Old", "type": "Image"},
        command=["x"],
        cwd="/",
        env={},
        server=None,
        blocking=False,
        background=False,
        timeout=None,
    )
    store.conn.execute("ALTER TABLE runs DROP COLUMN triggered_by")
    store.conn.execute("PRAGMA user_version=2")
    store.close()
    store = RunStore(path)
    record = store.get("r1")
    assert record is not None and record.task_name == "Old" and record.triggered_by is None
    store.update("r1", triggered_by='{"trigger": "CT arrives", "series": "1.2.3"}')
    assert store.get("r1").triggered_by == {"trigger": "CT arrives", "series": "1.2.3"}
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    store.close()


def test_utf8_split_between_reads_and_invalid_bytes(project: Project) -> None:
    project.script(
        "split",
        """
        import sys, time
        out = sys.stdout.buffer
        for text in ("é", "€", "😀"):
            data = text.encode()
            out.write(data[:1]); out.flush(); time.sleep(0.3)   # the supervisor reads half a character
            out.write(data[1:] + b"\\n"); out.flush()
        out.write(b"bad \\xff byte\\n"); out.flush()
        out.write(b"cut \\xe2\\x82"); out.flush()                # ends inside a character
        sys.stderr.write("à stderr\\n")
        """,
    )
    project.cli("run", "split", check=True)
    [record] = project.runs()
    output = project.output(record["id"])
    assert output_text(output, "stdout") == "é\n€\n😀\nbad \ufffd byte\ncut \ufffd"
    assert output_text(output, "stderr") == "à stderr\n"


def run_peak_mb(command: list[str], env: dict[str, str], cwd: Path, stdout: Path) -> float:
    """Peak RSS (MB) of ``command``, run in a fresh process whose only child it is."""
    code = (
        "import resource, subprocess, sys\n"
        "with open(sys.argv[1], 'wb') as out:\n"
        "    subprocess.run(sys.argv[2:], stdout=out, check=True)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(stdout), *command], capture_output=True, text=True, env=env, cwd=cwd
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout) * 1024 / 1e6 if sys.platform != "darwin" else int(done.stdout) / 1e6


def test_json_and_save_stream_a_200_mb_run(project: Project) -> None:
    project.cli("console", "--max-output", "300", check=True)
    project.script("loud", loud_script(200, stderr_every=50))
    project.cli("run", "loud", check=True)
    [record] = project.runs()
    assert record["output_dropped"] == 0
    console = [sys.executable, "-m", "osirix_tasks", "console", record["id"]]

    json_file = project.root / "out.json"
    json_peak = run_peak_mb([*console, "--json"], project.env, project.root, json_file)
    saved = project.root / "saved.txt"
    save_peak = run_peak_mb([*console, "--save", str(saved)], project.env, project.root, project.root / "msg")
    assert json_peak < 150, f"console --json peaked at {json_peak:.0f} MB"  # 839 MB before streaming
    assert save_peak < 150, f"console --save peaked at {save_peak:.0f} MB"  # 438 MB before

    # What was saved is what the task printed, stderr lines marked, in order (computed here).
    # (stdout and stderr interleave in the order they were read, so each stream is compared on its
    # own: stdout is exactly the 200 blocks, stderr four marked lines.)
    block = (("x" * 1023 + "\n") * 1024).encode()
    stdout_hash, stderr_lines = hashlib.sha256(), []
    with saved.open("rb") as handle:
        for line in handle:
            if line.startswith((b"Task started: ", b"Task finished: ")):
                continue  # the runner's own lines
            if line.startswith(b"[stderr] "):
                stderr_lines.append(line)
            else:
                stdout_hash.update(line)
    stdout_expected = hashlib.sha256()
    for _ in range(200):
        stdout_expected.update(block)
    assert stdout_hash.hexdigest() == stdout_expected.hexdigest()
    assert stderr_lines == [b"[stderr] warn\n"] * 4

    # The streamed JSON is valid and carries the same chunks as the store (checked with sqlite3).
    with json_file.open("rb") as handle:
        data = json.load(handle)
    assert data["run"]["id"] == record["id"]
    rows = (
        sqlite3.connect(store_file(project))
        .execute("SELECT stream, LENGTH(text) FROM output WHERE run_id = ? ORDER BY seq", (record["id"],))
        .fetchall()
    )
    names = {0: "system", 1: "stdout", 2: "stderr"}
    assert [(c["stream"], len(c["text"])) for c in data["output"]] == [(names[s], n) for s, n in rows]
