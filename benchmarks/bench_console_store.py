"""The console store at size (issue 10 item 8), through the CLI as a user runs it:

1. ``console --clear`` typed 5 times while a run prints and another process holds the store's
   write lock at each of its commits: how many fail;
2. the store's size on disk with 3 finished runs of 50 MB each, and after ``console --clear``;
3. the peak memory of ``console``, ``console --json`` and ``console --save`` on a 200 MB run.

    python benchmarks/bench_console_store.py [--megabytes 200]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from osirix_tasks.testing import Project

SLOW_WRITER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
    end, seq = time.monotonic() + float(sys.argv[3]), 10**9
    while time.monotonic() < end:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO output VALUES (?, ?, 1, ?, 'z')", (sys.argv[2], seq, time.time()))
        time.sleep(0.15)  # a big chunk, a checkpoint's fsync
        conn.execute("COMMIT")
        seq += 1
        time.sleep(0.01)
""")


def loud(megabytes: int) -> str:
    return (
        "import sys\nblock = (('x' * 1023 + '\\n') * 1024).encode()\n"
        f"for i in range({megabytes}):\n    sys.stdout.buffer.write(block)\n"
        "    if i % 50 == 0: sys.stderr.write('warn\\n')\n"
    )


def store_of(project: Project) -> Path:
    return project.root / ".local" / "share" / "osirix-tasks" / "runs.sqlite"


def on_disk(path: Path) -> str:
    sizes = {p.name: p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists()}
    return ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sizes.items())


def peak_mb(project: Project, *args: str) -> str:
    code = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024, done.returncode)\n"
    )
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, sys.executable, "-m", "osirix_tasks", *args],
        capture_output=True,
        text=True,
        env=project.env,
        cwd=project.root,
    ).stdout.split()
    return f"peak RSS {out[0]} MB, exit {out[1]}, {time.perf_counter() - started:.1f} s"


def clearing(root: Path) -> None:
    project = Project(root)
    project.script(
        "chatty",
        "import os, sys, time\nwhile not os.path.exists('../stop'):\n"
        "    time.sleep(0.002); print('y' * 200, flush=True)\n",
    )
    project.script("quick", "print('done')\n")
    run_id = project.cli("run", "chatty", "--background", check=True).stdout.strip()
    writer = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, str(store_of(project)), run_id, "12"])
    time.sleep(0.5)
    failures = []
    for _ in range(5):
        project.cli("run", "quick", check=True)
        done = project.cli("console", "--clear")
        if done.returncode:
            failures.append(done.stderr.strip().splitlines()[-1])
    (project.root / "stop").touch()
    writer.kill()
    print(f"1. console --clear while runs write: {len(failures)} of 5 failed {failures[:1]}")


def sizes(root: Path) -> None:
    project = Project(root)
    project.script("loud", loud(50))
    for _ in range(3):
        project.cli("run", "loud", check=True)
    print(f"2. store with 3 finished runs of 50 MB: {on_disk(store_of(project))}")
    done = project.cli("console", "--clear")
    print(f"   after console --clear: {on_disk(store_of(project))}   ({done.stdout.strip() or done.stderr.strip()})")


def memory(root: Path, megabytes: int) -> None:
    project = Project(root)
    capped = project.cli("console", "--max-output", str(2 * megabytes))  # older versions keep everything
    project.script("loud", loud(megabytes))
    project.cli("run", "loud", check=True)
    run_id = project.runs()[0]["id"]
    print(f"3. a {megabytes} MB run{' (cap raised)' if capped.returncode == 0 else ''}:")
    print(f"   console:        {peak_mb(project, 'console', run_id)}")
    print(f"   console --json: {peak_mb(project, 'console', run_id, '--json')}")
    print(f"   console --save: {peak_mb(project, 'console', run_id, '--save', str(root / 'saved.txt'))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--megabytes", type=int, default=200)
    options = parser.parse_args()
    for step in (clearing, sizes):
        with tempfile.TemporaryDirectory() as tmp:
            step(Path(tmp))
    with tempfile.TemporaryDirectory() as tmp:
        memory(Path(tmp), options.megabytes)


if __name__ == "__main__":
    main()
