"""The page's imports and what came of them: what the CLI says (imported, already there, skipped and why).

The embedded host imports in the background on its import queue (as CopyFilesIfNeeded does) and
its summary is kept here under an id the page asks about until the import is done. Another OsiriX
imports in the background too but cannot tell the outcome through its protocol; the page says so.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import OsirixTasksError

if TYPE_CHECKING:
    from ..emulator.database.import_queue import ImportJob
    from ..emulator.database.importer import ImportSummary
    from .context import WebContext
    from .uploads import Uploads

__all__ = ["ImportWatch", "NOTHING_IMPORTED"]

#: Said after the summary when no file could be used (the CLI's words).
NOTHING_IMPORTED = "nothing was imported - the files above were skipped; give DICOM files, folders or a DICOMDIR"
_KEPT = 32


class ImportWatch:
    """Imports started from the page, by id (the last ``_KEPT`` are remembered)."""

    def __init__(self, uploads: Uploads):
        self.uploads = uploads
        #: each import's job and what the user called its uploaded files (they are deleted when it ends)
        self._jobs: OrderedDict[str, tuple[ImportJob, dict[str, str]]] = OrderedDict()
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, context: WebContext, paths: list[str]) -> dict[str, Any]:
        """Import ``paths`` (files or folders) into the OsiriX the page shows; what the page says now."""
        if not paths:
            raise OsirixTasksError("give at least one file or folder to import")
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            raise OsirixTasksError(f"{missing[0]} does not exist - give the path of a DICOM file or folder")
        if not context.host_side.available:
            files = _files_of(paths)
            context.reader.import_files(files)
            # uploads for another OsiriX stay until swept: it reads them later
            return {
                "message": f"Sent {len(files)} file(s) to OsiriX at {context.target()}; it imports them in the "
                "background and does not report what it skipped - they appear in the list when it has read them",
                "import": None,
            }
        names = {p: name for p in paths if (name := self.uploads.original_name(p)) is not None}
        job = context.host_side.import_files(paths)
        if job.future is not None:
            job.future.add_done_callback(lambda _: self.uploads.discard(paths))
        with self._lock:
            key = str(next(self._ids))
            self._jobs[key] = (job, names)
            while len(self._jobs) > _KEPT:
                self._jobs.popitem(last=False)
        return {"message": f"Importing {_describe(paths, names)}...", "import": key}

    def outcome(self, key: str) -> dict[str, Any]:
        """How import ``key`` went: ``done`` and, once done, the summary in the CLI's words."""
        with self._lock:
            found = self._jobs.get(key)
        if found is None:
            raise OsirixTasksError(f"no import {key!r} - it is too old to remember; look at the database list")
        job, names = found
        if job.future is None or not job.future.done():
            return {"done": False, "message": f"Importing {_describe(job.paths, names)}..."}
        summary = job.summary
        if summary is None:
            return {"done": True, "ok": False, "message": "the import failed - the host's log says why"}
        return {"done": True, **_report(summary, names)}


def _describe(paths: list[str], names: dict[str, str]) -> str:
    shown = [names.get(p, p) for p in paths]
    return shown[0] if len(shown) == 1 else f"{len(shown)} files and folders"


def _report(summary: ImportSummary, names: dict[str, str]) -> dict[str, Any]:
    """The summary as the CLI prints it (uploads named as the user named them), and its counts."""
    text = str(summary)
    for path, name in names.items():
        text = text.replace(path, f"{name} (uploaded)")
    usable = summary.imported + summary.already_present
    if usable == 0:
        text += "\n" + NOTHING_IMPORTED
    return {
        "ok": usable > 0,
        "imported": summary.imported,
        "already_present": summary.already_present,
        "skipped": len(summary.skipped),
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
