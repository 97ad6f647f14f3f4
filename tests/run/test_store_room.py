"""How much output the run store may still take: the file system's free space and RLIMIT_FSIZE."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from osirix_tasks.run.store import RunStore
from osirix_tasks.run.store_room import RESERVE_BYTES, room_for_output

MB = 1 << 20


def test_the_room_is_half_the_free_space_less_the_reserve(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    store.close()
    free = shutil.disk_usage(tmp_path).free  # every kept byte is written twice: the log, then the file
    assert 0 < room_for_output(store.path) <= (free - RESERVE_BYTES) // 2 + MB


def _room_under_file_limit(store: Path, extra: int) -> int:
    """room_for_output in a process allowed files of the store's size plus ``extra`` bytes."""
    code = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from osirix_tasks.run.store_room import room_for_output\n"
        "limit = Path(sys.argv[1]).stat().st_size + int(sys.argv[2])\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))\n"
        "print(room_for_output(Path(sys.argv[1])))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(store), str(extra)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_a_file_size_limit_leaves_the_reserve_for_the_runs_end(tmp_path: Path) -> None:
    store = RunStore(tmp_path / "runs.sqlite")
    store.close()
    assert _room_under_file_limit(store.path, 100 * 1024) == 0  # less than the reserve left: keep nothing
    room = _room_under_file_limit(store.path, 10 * MB)
    assert 10 * MB - RESERVE_BYTES - MB < room <= 10 * MB - RESERVE_BYTES
