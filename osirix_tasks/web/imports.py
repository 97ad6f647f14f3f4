"""The page's imports and what came of them: what the CLI says (imported, already there, skipped and why).

The embedded host imports in the background on its import queue (as CopyFilesIfNeeded does) and
keeps each import's summary under a number, which the page asks about with the host's control
requests (:class:`~osirix_tasks.host.control_protocol.ImportInBackground`,
:class:`~osirix_tasks.host.control_protocol.ImportOutcome`) until the import is done; the host
deletes the page's uploads of an import when it ends. Another OsiriX imports in the background too
(through :mod:`osirix_tasks.client`) but cannot tell the outcome through its protocol; the page says so.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..client.viewer_tools import import_files
from ..errors import OsirixTasksError
from ..host.control_protocol import ImportInBackground, ImportOutcome

if TYPE_CHECKING:
    from .page import Page
    from .uploads import Uploads

__all__ = ["ImportWatch", "NOTHING_IMPORTED"]

#: Said after the summary when no file could be used (the CLI's words).
NOTHING_IMPORTED = "nothing was imported - the files above were skipped; give DICOM files, folders or a DICOMDIR"
_KEPT = 32
_FOLLOWING = "Following an import"


class ImportWatch:
    """What the user called the uploaded files of the imports started from the page, by import number
    (the last ``_KEPT`` are remembered; the host keeps the imports themselves)."""

    def __init__(self, uploads: Uploads):
        self.uploads = uploads
        self._names: OrderedDict[int, dict[str, str]] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, page: Page, paths: list[str]) -> dict[str, Any]:
        """Import ``paths`` (files or folders) into the OsiriX the page shows; what the page says now."""
        if not paths:
            raise OsirixTasksError("give at least one file or folder to import")
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            raise OsirixTasksError(f"{missing[0]} does not exist - give the path of a DICOM file or folder")
        if page.own_host() is None:
            files = _files_of(paths)
            import_files(page.connection(), files)
            # uploads for another OsiriX stay until swept: it reads them later
            return {
                "message": f"Sent {len(files)} file(s) to OsiriX at {page.address()}; it imports them in the "
                "background and does not report what it skipped - they appear in the list when it has read them",
                "import": None,
            }
        names = {p: name for p in paths if (name := self.uploads.original_name(p)) is not None}
        key = int(page.hand(ImportInBackground(paths=paths, discard=list(names)), _FOLLOWING).data["import"])
        with self._lock:
            self._names[key] = names
            while len(self._names) > _KEPT:
                self._names.popitem(last=False)
        return {"message": f"Importing {_describe(paths, names)}...", "import": str(key)}

    def outcome(self, page: Page, key: str) -> dict[str, Any]:
        """How import ``key`` went: ``done`` and, once done, the summary in the CLI's words."""
        if not key.isdigit() or int(key) < 1:
            raise OsirixTasksError(f"no import {key!r} - it is too old to remember; look at the database list")
        with self._lock:
            names = self._names.get(int(key), {})
        found = page.hand(ImportOutcome(key=int(key)), _FOLLOWING).data
        paths = [str(p) for p in found.get("paths") or []]
        if not found["done"]:
            done, total = int(found.get("read", 0)), int(found.get("total", 0))
            counted = f": {done} of {total} files read" if total else ""
            return {
                "done": False,
                "read": done,
                "total": total,
                "message": f"Importing {_describe(paths, names)}{counted}...",
            }
        self.uploads.discard(names)  # the host deleted them; forget their names
        if found.get("failed"):
            return {"done": True, "ok": False, "message": "the import failed - the host's log says why"}
        return {"done": True, **_report(found, names)}


def _describe(paths: list[str], names: dict[str, str]) -> str:
    shown = [names.get(p, p) for p in paths]
    return shown[0] if len(shown) == 1 else f"{len(shown)} files and folders"


def _report(found: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The host's summary as the CLI prints it (uploads named as the user named them), and its counts."""
    text = str(found["summary"])
    for path, name in names.items():
        text = text.replace(path, f"{name} (uploaded)")
    usable = int(found["imported"]) + int(found["already_present"])
    if usable == 0:
        text += "\n" + NOTHING_IMPORTED
    return {
        "ok": usable > 0,
        "imported": found["imported"],
        "already_present": found["already_present"],
        "skipped": found["skipped"],
        "message": text,
    }


def _files_of(paths: list[str]) -> list[str]:
    files: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            files.extend(str(p) for p in sorted(Path(path).rglob("*")) if p.is_file())
        else:
            files.append(path)
    return files
