"""The file a browser is given to open the page, so the token is not on the browser's command line.

As Jupyter does: a small HTML file, readable by its owner only, in the 0700 runtime folder, that
sends the browser on to the page's address with its token. One per host (named by its pid); those
of hosts that are gone are removed.
"""

from __future__ import annotations

import html
import os
from collections.abc import Collection
from pathlib import Path

from .._support.paths import runtime_dir
from .._support.private import open_private

__all__ = ["opening_file"]

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url={url}">
<title>osirix-tasks</title></head>
<body><p>Opening <a href="{url}">the osirix-tasks page</a>&hellip;</p></body></html>
"""


def opening_file(url: str, pid: int, live_pids: Collection[int]) -> Path:
    """Write (0600) and return the file leading to ``url`` for the host ``pid``."""
    folder = runtime_dir()
    for old in folder.glob("page-*.html"):
        number = old.stem.removeprefix("page-")
        if number.isdigit() and int(number) not in live_pids:
            old.unlink(missing_ok=True)
    path = folder / f"page-{pid}.html"
    temporary = folder / f".page-{pid}.{os.getpid()}.tmp"
    descriptor = open_private(temporary)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(_PAGE.format(url=html.escape(url, quote=True)))
    os.replace(temporary, path)
    return path
