"""A TOML file as text, parsed data and table positions: what loading and editing both work on."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import tomli

from .._support.atomic import restore_hint
from .problems import Problem, RegistryError
from .spans import TableSpan, key_line, scan_tables

__all__ = ["Source", "read_source"]


class Source:
    """The text of a TOML file with its parsed data and table positions."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.label = path.name
        self.text = text
        self.lines = text.splitlines()
        try:
            self.data: dict[str, Any] = tomli.loads(text)
        except tomli.TOMLDecodeError as exc:
            line = getattr(exc, "lineno", None)
            col = getattr(exc, "colno", None)
            where = f"{line}:{col}" if line and col else None
            message = getattr(exc, "msg", str(exc))
            raise RegistryError(
                [
                    Problem(
                        f"{self.label}:{where}" if where else self.label,
                        None,
                        "",
                        None,
                        f"TOML syntax error: {message} - fix the syntax there"
                        + restore_hint(path, "osirix-tasks tasks restore"),
                    )
                ]
            ) from None
        self._spans: list[TableSpan] | None = None

    @property
    def task_spans(self) -> list[TableSpan] | None:
        """The span of each ``[[task]]`` entry, or None when the text cannot be trusted for it."""
        if self._spans is None:
            self._spans = [s for s in scan_tables(self.lines) if s.is_array and s.name == "task"]
        entries = self.data.get("task", [])
        if not isinstance(entries, list) or len(self._spans) != len(entries):
            return None
        return self._spans

    def task_line(self, index: int, key: str | None = None) -> int | None:
        """The line of task entry ``index`` (of its ``key`` when given), or None when unknown."""
        spans = self.task_spans
        if spans is None:
            return None
        return key_line(self.lines, spans[index], key) if key else spans[index].start

    def table_line(self, name: str, key: str | None = None) -> int | None:
        """The line of the table ``[name]`` (of its ``key`` when given), or None when absent."""
        for span in scan_tables(self.lines):
            if span.name == name and not span.is_array:
                return key_line(self.lines, span, key) if key else span.start
        return None


#: A registry larger than this is refused unread (10,000 tasks take about 1.5 MB).
MAX_REGISTRY_BYTES = 16 * 1024 * 1024


def _problem(path: Path, message: str) -> RegistryError:
    return RegistryError([Problem(str(path), None, "", None, message)])


def _read_regular(path: Path) -> bytes | None:
    """The bytes of ``path`` (None when missing), refusing what is not a regular file or is too large:
    a FIFO would block the reader forever, a huge file would take gigabytes to parse."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO opens at once, and is refused below
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise _problem(path, "is a folder - give the path of a tasks.toml file") from None
    except PermissionError:
        raise _problem(path, "cannot be read (permission denied) - check its permissions") from None
    with os.fdopen(fd, "rb") as handle:
        found = os.fstat(fd)
        if stat.S_ISDIR(found.st_mode):
            raise _problem(path, "is a folder - give the path of a tasks.toml file")
        if not stat.S_ISREG(found.st_mode):
            kind = "a FIFO (named pipe)" if stat.S_ISFIFO(found.st_mode) else "not a regular file"
            raise _problem(path, f"is {kind}, not a file - give the path of a tasks.toml file")
        if found.st_size > MAX_REGISTRY_BYTES:
            raise _problem(
                path,
                f"is {found.st_size / 2**20:.0f} MB, more than the {MAX_REGISTRY_BYTES // 2**20} MB a registry may be "
                "- is it the right file? Split it, or name tasks by module ([[task]] module = ...)",
            )
        os.set_blocking(fd, True)
        return handle.read(MAX_REGISTRY_BYTES + 1)


def read_source(path: Path) -> Source:
    """Read and parse a registry file; a missing file is an empty one. Raises RegistryError."""
    data = _read_regular(path)
    try:
        text = "" if data is None else data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise RegistryError(
            [Problem(path.name, None, "", None, f"not UTF-8 text ({exc.reason}) - save it as UTF-8")]
        ) from None
    return Source(path, text)
