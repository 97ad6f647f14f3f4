"""``BrowserController*`` RPCs: the database window (``gRPCBrowserControllerDelegate.mm``)."""

from __future__ import annotations

import os
import stat
from typing import Any

from ...errors import OsirixError
from ..database.conventions import browser_order
from ..protocol import implements, ok
from ..state import OsirixState
from .tables import getters


def _browser(state: OsirixState, request: Any) -> OsirixState:
    state.browser(request)
    return state


def _selection(state: OsirixState, _: Any) -> dict[str, Any]:
    """What is selected in the browser, split into studies and series."""
    studies, series = state.selection()
    return {
        "studies": [state.ref("DicomStudy", s) for s in studies],
        "series": [state.ref("DicomSeries", s) for s in series],
    }


getters(
    _browser,
    {
        "BrowserControllerDatabaseStudies": lambda state, _: {
            "studies": [state.ref("DicomStudy", s.id) for s in browser_order(state.db)]
        },
        "BrowserControllerDatabaseSelection": _selection,
    },
)


def _readable_file(path: str) -> bool:
    """A regular file this process can open for reading (opened, not only checked: ACLs)."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return False
        os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
    except OSError:
        return False
    return True


@implements
def BrowserControllerCopyFilesIfNeeded(state: OsirixState, request: Any) -> Any:
    """Import the paths into the database, copying the files, on a background thread.

    The plugin hands the paths to OsiriX unchecked; we refuse, in our own words, a path that is not a
    file this OsiriX can read (a folder such as '/' would start an unbounded import). Missing,
    unreadable and not a file get the same answer: the caller learns nothing of a path it could not
    read itself.
    """
    state.browser(request.browser)
    paths = list(request.paths)
    for path in paths:
        if not _readable_file(path):
            raise OsirixError(f"Cannot read {path}: give the paths of DICOM files this OsiriX can read")
    if paths:
        state.import_in_background(paths)
    return ok("BrowserControllerCopyFilesIfNeeded")
