"""Every code block of the tutorials and how-to guides runs, in order, as the reader would run it.

Each page is one test module (Sybil): a fresh folder for its working directory and a fresh home
(so ``~/Library/Application Support/OsirixGRPC`` and ``~/.config`` are the page's own), and the
reader's virtual environment, activated: a venv of the page's own that sees this one's packages
(osirix-tasks and its dependencies), with every console script, ``python`` and ``pip`` in its
``bin/`` first on PATH. What a page installs (a task pack) goes into that venv and is gone with it.
``bash`` blocks run with ``bash -euo pipefail``; a ``python title="FILE"`` block is the file the
reader is told to write; a ``python`` block without a title runs as a script. ``<!-- skip: next -->``
before a block leaves it out (installing, opening a browser), ``<!-- skip: next if(not which("conda"),
reason="...") -->`` a block that needs a tool. ``<!-- slow: WHY -->`` marks every block of a page
``slow`` (it installs packages, starts clusters...; CI runs it too). At the end of a page every process
it started (hosts, Dask, Orthanc) is stopped.
"""

from __future__ import annotations

import importlib.metadata
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
import pytest
from sybil import Document, Example, Region, Sybil
from sybil.parsers.markdown import SkipParser
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

from osirix_tasks.testing import overlay_venv

DOCS = Path(__file__).resolve().parent
BLOCK_TIMEOUT = 300
#: ```` ```bash ```` and ```` ```python ```` run; ```` ```LANGUAGE title="FILE" ```` (any language) writes FILE,
#: ``title="FILE (added at the end)"`` appends to it; other blocks are only shown.
_INFO = re.compile(
    r'(?P<language>[\w+-]+)(?:[ \t]+title="(?P<title>[^" ]+)(?P<append> \(added at the end\))?")?[ \t]*$\n',
    re.MULTILINE,
)
RUNNABLE = ("bash", "python")


def _reader_venv(folder: Path) -> Path:
    """The reader's activated virtual environment: an overlay venv with a console script per entry
    point (run by its own Python, so it sees what the page installs) and a ``pip`` that installs into it."""
    python = overlay_venv(folder)
    bin_dir = python.parent
    for entry in importlib.metadata.entry_points(group="console_scripts"):
        module, attribute = entry.module, entry.attr
        script = bin_dir / entry.name
        script.write_text(  # as pip writes it (multiprocessing's spawn imports it again as __mp_main__)
            f"#!{python}\nimport sys\nfrom {module} import {attribute.split('.')[0]}\n"
            f"if __name__ == '__main__':\n    sys.exit({attribute}())\n"
        )
        script.chmod(0o755)
    pip = bin_dir / "pip"
    # PIP_NO_BUILD_ISOLATION=0 means "no build isolation" (pip's spelling): build with what is installed.
    pip.write_text(f'#!/bin/sh\nPIP_NO_BUILD_ISOLATION=0 exec "{sys.executable}" -m pip --python "{python}" "$@"\n')
    pip.chmod(0o755)
    return python


def _environment(home: Path, bin_dir: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("OSIRIX_TASKS_", "XDG_", "VIRTUAL_ENV"))}
    keep["HOME"] = str(home)
    keep["PATH"] = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), keep.get("PATH", "")])
    keep["VIRTUAL_ENV"] = str(bin_dir.parent)
    keep["COLUMNS"] = "120"
    return keep


def _run(example: Example, script: str) -> str | None:
    """Run ``script`` with bash as the reader's terminal would: in the folder the previous block left,
    with the variables it exported; afterwards, keep this block's folder and exports for the next."""
    namespace = example.namespace
    state: Path = namespace["folder"] / "shell"
    cwd_file, exports = state / "cwd", state / "exports"
    prologue = f'. "{exports}"; cd "$(cat "{cwd_file}")"; trap \'pwd > "{cwd_file}"; export -p > "{exports}"\' EXIT\n'
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", prologue + script],
        env=namespace["env"],
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT,
        check=False,
    )
    namespace["cwd"] = Path((state / "cwd").read_text().strip())
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
        return _run(example, block["source"])
    if block["title"]:  # a file the reader writes
        target = cwd / block["title"]
        target.parent.mkdir(parents=True, exist_ok=True)
        if block["append"]:
            block_text = target.read_text() if target.exists() else ""
            target.write_text(block_text + "\n" + block["source"])
        else:
            target.write_text(block["source"])
        return None
    script = example.namespace["folder"] / "blocks" / f"line_{example.line}.py"
    script.parent.mkdir(exist_ok=True)
    script.write_text(block["source"])
    return _run(example, f'python "{script}"')


class RunnableBlocks:
    """Fenced ``bash`` and ``python`` blocks, and blocks with a ``title="FILE"``, as Sybil examples."""

    def __init__(self) -> None:
        self.lexer = RawFencedCodeBlockLexer(info_pattern=_INFO)

    def __call__(self, document: Document) -> Iterable[Region]:
        for region in self.lexer(document):
            if region.lexemes["language"] not in RUNNABLE and not region.lexemes.get("title"):
                continue
            region.parsed = {
                "language": region.lexemes["language"],
                "title": region.lexemes.get("title"),
                "append": bool(region.lexemes.get("append")),
                "source": str(region.lexemes["source"]),
            }
            region.evaluator = _evaluate
            yield region


def _setup(namespace: dict[str, Any]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="osirix-tasks-docs-"))
    (folder / "home").mkdir()
    (folder / "work").mkdir()
    (folder / "shell").mkdir()
    (folder / "shell" / "cwd").write_text(str(folder / "work"))
    (folder / "shell" / "exports").write_text("")
    python = _reader_venv(folder / "venv")
    namespace.update(
        folder=folder,
        cwd=folder / "work",
        python=python,
        env=_environment(folder / "home", python.parent),
        which=shutil.which,
    )


def _teardown(namespace: dict[str, Any]) -> None:
    """Stop every process the page started (its HOME is in the page's folder: a colleague's home too)."""
    folder = str(namespace["folder"]) + os.sep
    for process in psutil.process_iter(["environ"]):
        try:
            if (process.info["environ"] or {}).get("HOME", "").startswith(folder):
                process.kill()
        except (psutil.Error, OSError):
            continue
    shutil.rmtree(namespace["folder"], ignore_errors=True)


_SLOW = re.compile(r"<!--\s*slow:[^>]*-->")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The blocks of a page that says ``<!-- slow: WHY -->`` are marked ``slow``."""
    slow: dict[Path, bool] = {}
    for item in items:
        path = Path(str(item.path))
        if path.suffix != ".md" or DOCS not in path.parents:
            continue
        if path not in slow:
            slow[path] = bool(_SLOW.search(path.read_text()))
        if slow[path]:
            item.add_marker(pytest.mark.slow)


pytest_collect_file = Sybil(
    parsers=[RunnableBlocks(), SkipParser()],
    path=str(DOCS),
    patterns=["index.md", "tutorials/*.md", "howto/*.md"],
    setup=_setup,
    teardown=_teardown,
).pytest()
