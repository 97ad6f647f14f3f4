"""Packages installed while this process runs (a host runs for days; users ``pip install`` packs).

Python reads the ``.pth`` files of its site folders once, at start-up: an editable install made later
(``pip install -e``: a ``.pth`` that adds the project's folder or installs an import finder) stays
invisible, and the import system's caches may not know a new package folder. :func:`refresh_installed`
catches up, when a site folder changed since it last looked: the import caches are dropped (entry
points are read again from the file system, too) and each ``.pth`` file that appeared since this
module was imported is processed as ``site`` would have (``site.addpackage``).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import site
import sys
import threading

__all__ = ["refresh_installed", "site_folders"]

_lock = threading.Lock()


def site_folders() -> list[str]:
    """The folders packages are installed in for this interpreter (venv, user, system)."""
    folders = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        folders.append(site.getusersitepackages())
    folders += [entry for entry in sys.path if entry.endswith("site-packages")]
    return list(dict.fromkeys(folder for folder in folders if os.path.isdir(folder)))


def _pth_files(folders: list[str]) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for folder in folders:
        with contextlib.suppress(OSError):
            found.update((folder, name) for name in os.listdir(folder) if name.endswith(".pth"))
    return found


def _stamp(folders: list[str]) -> tuple[tuple[str, int], ...]:
    stamps = []
    for folder in folders:
        with contextlib.suppress(OSError):
            stamps.append((folder, os.stat(folder).st_mtime_ns))
    return tuple(stamps)


#: What site processed at start-up (this module is imported early by every process of ours).
_processed = _pth_files(site_folders())
_seen_stamp = _stamp(site_folders())


def refresh_installed() -> bool:
    """Make packages installed since start-up importable (editable ones too); True when a site folder
    had changed. Cheap when nothing changed: one stat per site folder."""
    global _seen_stamp
    with _lock:
        folders = site_folders()
        stamp = _stamp(folders)
        if stamp == _seen_stamp:
            return False
        _seen_stamp = stamp
        importlib.invalidate_caches()
        known = {os.path.normcase(entry) for entry in sys.path}
        for folder, name in sorted(_pth_files(folders) - _processed):
            _processed.add((folder, name))
            site.addpackage(folder, name, known)
        return True
