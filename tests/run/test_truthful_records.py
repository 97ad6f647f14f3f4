"""Run records tell the truth: a lost run ends when it was last seen (a full disk: tests/host/test_faults.py)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from osirix_tasks.testing import Project
from osirix_tasks.testing.project import output_text


def test_a_lost_run_ends_when_it_was_last_seen_not_when_found(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.script("long", "import time\nprint('up', flush=True)\ntime.sleep(120)\n")
    run_id = project.cli("run", "long", "--background", check=True).stdout.strip()
    deadline = time.monotonic() + 30
    while "up" not in output_text(project.output(run_id), "stdout") and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(3)  # alive a while after its last output
    [record] = project.runs()
    os.kill(record["supervisor_pid"], signal.SIGKILL)  # the supervisor dies (a host killed with it)
    killed_at = time.time()
    time.sleep(6)  # nobody watches: downtime
    try:
        [lost] = project.runs()
        assert lost["status"] == "lost"
        assert lost["ended"] <= killed_at + 0.5  # it ends when it was last known alive ...
        assert lost["ended"] >= killed_at - 4.0  # ... which is close to the kill (a heartbeat every 2 s)
    finally:
        os.killpg(record["pid"], signal.SIGKILL)
