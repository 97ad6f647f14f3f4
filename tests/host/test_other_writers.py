"""A database folder written by another process while a host serves it shows as a browser change.

``osirix-tasks import`` (or ``dicom get``) run beside a serving host commits to the same SQLite
index; the host's change counters (what the page polls) must count it, or the page never lists the
new study until something else changes.
"""

from __future__ import annotations

import json
from pathlib import Path

from osirix_tasks.host.control import ask
from osirix_tasks.host.control_protocol import WhatChanged
from osirix_tasks.testing import running_host
from osirix_tasks.testing.environment import run_cli

from ..helpers import copy_series


def test_an_import_by_another_process_is_a_browser_change(tmp_path: Path, phantom_dir: Path) -> None:
    files = copy_series(sorted(phantom_dir.rglob("*.dcm"))[:3], tmp_path / "incoming", "other-writer")
    with running_host(tmp_path, "--empty") as host:
        info = host.spawned.info
        assert info is not None
        before = ask(info, WhatChanged()).data
        again = ask(info, WhatChanged(since=before["now"])).data
        assert again["browser"] == before["browser"]  # nothing happened: no change counted

        done = run_cli("import", *map(str, files), "--database", str(host.database), env=host.env(), timeout=120)
        assert done.returncode == 0, done.stderr

        after = ask(info, WhatChanged(since=before["now"])).data
        assert after["browser"] > before["browser"], (before, after)
        listed = host.cli("db", "studies", "--json")  # and the host lists it through the protocol
        assert listed.returncode == 0 and len(json.loads(listed.stdout)) == 1, listed
