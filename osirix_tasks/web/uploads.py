"""Files the page uploads for import: streamed to owner-only files, bounded, deleted once imported.

The body is written to disk as it arrives (never held in memory) in ``uploads/BATCH/`` (folders
0700, files 0600) of the per-user data folder; a body announced or found larger than
``MAX_UPLOAD_BYTES`` is refused with 413 as soon as that is known, and what was written of it is
removed. The embedded host's import of a batch deletes its files when it is done; uploads left for
another OsiriX (which imports in the background without saying when it is done) are removed after
``KEEP_SECONDS``.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from .._support.paths import remove_upload, uploads_dir
from .._support.private import open_private, private_folder
from ..errors import UploadTooLarge

__all__ = ["Uploads", "UploadTooLarge", "MAX_UPLOAD_BYTES", "KEEP_SECONDS", "UPLOAD_PATH"]

#: Where the page sends a file (the guard wants application/octet-stream there).
UPLOAD_PATH = "/api/database/upload"
#: Largest file accepted (a DICOM file is far smaller).
MAX_UPLOAD_BYTES = 1 << 30
#: How long an upload that no import of ours deleted is kept.
KEEP_SECONDS = 3600.0
_WRITE_BYTES = 1 << 20
_UNSAFE = re.compile(r"[^\w.\- ]+")


class Uploads:
    """The upload folder and what each uploaded file was called on the user's side."""

    def __init__(self, root: Path | None = None, limit: int = MAX_UPLOAD_BYTES):
        self._root = root
        self.limit = limit
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def root(self) -> Path:
        """``uploads/`` of the per-user data folder (read when used: tests change HOME)."""
        return self._root or uploads_dir()

    def batch_folder(self, batch: str) -> Path:
        """The 0700 folder of one batch (the uploads folder made 0700 too, whatever it was)."""
        private_folder(self.root)
        return private_folder(self.root / batch)

    async def receive(self, batch: str, name: str, chunks: AsyncIterator[bytes]) -> Path:
        """Write ``chunks`` to a new 0600 file of ``batch``; UploadTooLarge (file removed) past the limit."""
        from starlette.concurrency import run_in_threadpool

        self.sweep()
        folder = await run_in_threadpool(self.batch_folder, batch)
        safe = _UNSAFE.sub("_", os.path.basename(name))[-100:].lstrip(".") or "upload.dcm"
        path, descriptor = _new_file(folder, safe)
        written, pending = 0, bytearray()
        try:
            async for chunk in chunks:
                written += len(chunk)
                if written > self.limit:
                    raise UploadTooLarge(f"{name} is larger than {self.limit} bytes - import it by its path instead")
                pending += chunk
                if len(pending) >= _WRITE_BYTES:
                    await run_in_threadpool(_write_all, descriptor, bytes(pending))
                    pending.clear()
            await run_in_threadpool(_write_all, descriptor, bytes(pending))
        except BaseException:
            os.close(descriptor)
            path.unlink(missing_ok=True)
            raise
        os.close(descriptor)
        with self._lock:
            self._names[str(path)] = name
        return path

    def original_name(self, path: str) -> str | None:
        """What the user called an uploaded file (None for a path that is not an upload)."""
        with self._lock:
            return self._names.get(path)

    def discard(self, paths: Iterable[str]) -> None:
        """Delete uploaded files (and their batch folder once empty); other paths are left alone."""
        for path in paths:
            with self._lock:
                known = self._names.pop(path, None)
            if known is not None:
                remove_upload(path, self.root)

    def sweep(self) -> None:
        """Remove batches older than KEEP_SECONDS."""
        if not self.root.is_dir():
            return
        now = time.time()
        for folder in self.root.iterdir():
            try:
                old = now - folder.stat().st_mtime > KEEP_SECONDS
            except OSError:
                continue
            if old and folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                with self._lock:
                    for path in [p for p in self._names if Path(p).parent == folder]:
                        del self._names[path]


def _new_file(folder: Path, name: str) -> tuple[Path, int]:
    """A new 0600 file in ``folder`` named after ``name`` (a number in front when taken)."""
    for number in range(10_000):
        path = folder / (name if number == 0 else f"{number}-{name}")
        try:
            return path, open_private(path, "xb")
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder} holds too many files named {name}")


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]
