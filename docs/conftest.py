"""Every code block of the tutorials and how-to guides runs, in order, as the reader would run it.

Each page is one test module (Sybil): a fresh folder for its working directory and a fresh home
(so ``~/Library/Application Support/OsirixGRPC`` and ``~/.config`` are the page's own), the
installed ``osirix-tasks`` first on PATH. ``bash`` blocks run with ``bash -euo pipefail``; a
``python title="FILE"`` block is the file the reader is told to write; a ``python`` block without a
title runs as a script. ``<!-- skip: next -->`` before a block leaves it out (installing, opening a
browser). At the end of a page every host it started is stopped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psutil
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown import SkipParser
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

DOCS = Path(__file__).resolve().parent
BLOCK_TIMEOUT = 300
_INFO = re.compile(r'(?P<language>bash|python)(?:[ \t]+title="(?P<title>[^"]+)")?[ \t]*$\n', re.MULTILINE)


def _environment(home: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("OSIRIX_TASKS_", "XDG_", "VIRTUAL_ENV"))}
    keep["HOME"] = str(home)
    keep["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{keep.get('PATH', '')}"
    keep["COLUMNS"] = "120"
    return keep


def _run(example: Example, command: list[str]) -> str | None:
    namespace = example.namespace
    result = subprocess.run(
        command,
        cwd=namespace["cwd"],
        env=namespace["env"],
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
        check=False,
    )
    namespace["last_output"] = result.stdout
    if result.returncode != 0:
        return (
            f"{example.path}:{example.line}: the block exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return None


def _evaluate(example: Example) -> str | None:
    block: dict[str, Any] = example.parsed
    cwd: Path = example.namespace["cwd"]
    if block["language"] == "bash":
        return _run(example, ["bash", "-euo", "pipefail", "-c", block["source"]])
    if block["title"]:
        target = cwd / block["title"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block["source"])
        return None
    script = cwd / f".block_{example.line}.py"
    script.write_text(block["source"])
    return _run(example, [sys.executable, str(script)])


class RunnableBlocks:
    """Fenced ``bash`` and ``python`` blocks (an optional ``title="FILE"``) as Sybil examples."""

    def __init__(self) -> None:
        self.lexer = RawFencedCodeBlockLexer(info_pattern=_INFO)

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in self.lexer(document):
            region.parsed = {
                "language": region.lexemes["language"],
                "title": region.lexemes.get("title"),
                "source": str(region.lexemes["source"]),
            }
            region.evaluator = _evaluate
            yield region


def _setup(namespace: dict[str, Any]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="osirix-tasks-docs-"))
    (folder / "home").mkdir()
    (folder / "work").mkdir()
    namespace.update(folder=folder, cwd=folder / "work", env=_environment(folder / "home"))


def _teardown(namespace: dict[str, Any]) -> None:
    home = str(namespace["folder"] / "home")
    for process in psutil.process_iter(["environ"]):
        try:
            if (process.info["environ"] or {}).get("HOME") == home:
                process.kill()
        except (psutil.Error, OSError):
            continue
    shutil.rmtree(namespace["folder"], ignore_errors=True)


pytest_collect_file = Sybil(
    parsers=[RunnableBlocks(), SkipParser()],
    path=str(DOCS),
    patterns=["index.md", "tutorials/*.md", "howto/*.md"],
    setup=_setup,
    teardown=_teardown,
).pytest()
