"""Task output reaches the terminal without its control sequences (window title, hyperlinks, cursor
moves), colours kept; ``--raw`` shows it as written. Run in a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from osirix_tasks.testing import Project

TITLE = "\x1b]0;pwned-title\x07"
LINK = "\x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\"
CLEAR = "\x1b[2J\x1b[H"
MOUSE = "\x1b[?1000h"
RED = "\x1b[31mred\x1b[0m"
BODY = f"""
import sys
sys.stdout.write("start {TITLE!s}" + {LINK!r} + {CLEAR!r} + {MOUSE!r} + {RED!r} + "\\n")
sys.stdout.write("split \\x1b]0;half")
sys.stdout.flush()
sys.stdout.write("-title\\x07 end\\n")
sys.stderr.write("err \\x1b]0;t2\\x07 bell\\x07 done\\n")
"""


def in_terminal(project: Project, *args: str) -> str:
    """``osirix-tasks ARGS`` with stdout and stderr on a pseudo-terminal; everything it showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "osirix_tasks", *args],
        stdin=subprocess.DEVNULL,
        stdout=follower,
        stderr=follower,
        env=project.env,
        cwd=project.root,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        shown += data
    os.close(leader)
    assert process.wait(timeout=60) == 0, shown
    return shown.decode("utf-8", "replace")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project(tmp_path)
    made.script("escapes", BODY.replace("{TITLE!s}", TITLE.replace("\x1b", "\\x1b").replace("\x07", "\\x07")))
    return made


def test_run_and_console_neutralise_control_sequences_and_keep_colours(project: Project) -> None:
    for args in (("run", "escapes"), ("console",)):
        shown = in_terminal(project, *args)
        assert "start click here" in shown and "split  end" in shown and "err  bell done" in shown
        for sequence in ("\x1b]", "\x1b[2J", "\x1b[H", "\x1b[?1000h", "\x07", "pwned-title", "evil.example", "half"):
            assert sequence not in shown, (args, sequence)
        assert "\x1b[31mred\x1b[0m" in shown  # colours are only looks: kept


def test_raw_shows_the_output_as_written(project: Project) -> None:
    for args in (("run", "escapes", "--raw"), ("console", "--raw")):
        shown = in_terminal(project, *args)
        assert TITLE in shown and "\x1b]8;;https://evil.example/" in shown and MOUSE in shown, args
