"""Line numbers for a TOML document: where each table starts and where each key is written.

tomllib/tomli give values without positions; error messages need ``tasks.toml:LINE``. This
module scans the source for table headers. It trusts its answer only when the headers it found
agree with the parsed document (the caller checks the count), since a multi-line string could
contain a line that looks like a header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["TableSpan", "scan_tables", "key_line"]

_HEADER = re.compile(r"^[ \t]*(\[\[?)[ \t]*([A-Za-z0-9_.\-\"' ]+?)[ \t]*(\]\]?)[ \t]*(?:#[^\n]*)?$", re.MULTILINE)


@dataclass(frozen=True)
class TableSpan:
    """One table header and the lines up to the next header (1-based, end exclusive)."""

    name: str
    is_array: bool
    start: int
    end: int


def scan_tables(lines: list[str]) -> list[TableSpan]:
    """Every ``[table]`` and ``[[array.of.tables]]`` header of the source, in order."""
    text = "\n".join(lines)
    headers: list[tuple[str, bool, int]] = []
    line, position = 1, 0
    for match in _HEADER.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        if len(match.group(1)) == len(match.group(3)):
            name = match.group(2).replace('"', "").replace("'", "").strip()
            headers.append((name, match.group(1) == "[[", line))
    spans = []
    for index, (name, is_array, start) in enumerate(headers):
        end = headers[index + 1][2] if index + 1 < len(headers) else len(lines) + 1
        spans.append(TableSpan(name, is_array, start, end))
    return spans


def key_line(lines: list[str], span: TableSpan, key: str) -> int:
    """The line where ``key`` is set inside ``span``; the header line when it is not set."""
    pattern = re.compile(rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=")
    for number in range(span.start + 1, span.end):
        if pattern.match(lines[number - 1]):
            return number
    return span.start


def content_end(lines: list[str], span: TableSpan) -> int:
    """The end of ``span`` without the blank and comment lines that lead into the next table."""
    end = span.end
    while end - 1 > span.start:
        text = lines[end - 2].strip()
        if text and not text.startswith("#"):
            break
        end -= 1
    return end
