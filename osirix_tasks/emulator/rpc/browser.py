"""``BrowserController*`` RPCs: the database window (``gRPCBrowserControllerDelegate.mm``)."""

from __future__ import annotations

import os
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


@implements
def BrowserControllerCopyFilesIfNeeded(state: OsirixState, request: Any) -> Any:
    """Import the paths into the database, copying the files, on a background thread.

    The plugin hands the paths to OsiriX unchecked; we refuse paths that are missing or are folders
    (a folder such as '/' would start an unbounded import) in our own words.
    """
    state.browser(request.browser)
    paths = list(request.paths)
    for path in paths:
        if not os.path.exists(path):
            raise OsirixError(f"No such file: {path}")
        if not os.path.isfile(path):
            raise OsirixError(f"Not a file: {path} - give the paths of DICOM files")
    if paths:
        state.import_in_background(paths)
    return ok("BrowserControllerCopyFilesIfNeeded")
