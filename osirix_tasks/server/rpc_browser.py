"""``BrowserController*`` RPCs: the database window."""

from __future__ import annotations

import os
from typing import Any

from .conventions import study_datetime
from .protocol import RpcFailure, implements, ok
from .state import OsirixState


def browser_order(state: OsirixState) -> list[Any]:
    """Studies in the browser's order.

    OsiriX's browser sorts by patient name by default; we break ties by study date and then
    import order (the reference does not say; this is the browser's secondary order).
    """
    rows = state.db.studies()

    def key(study: Any) -> tuple[str, str, int]:
        date = study_datetime(state.db.images_of_study(study.id))
        return (study.patient_name.lower(), date.isoformat() if date else "", study.id)

    return sorted(rows, key=key)


@implements
def BrowserControllerDatabaseStudies(state: OsirixState, request: Any) -> Any:
    """Every study in the database."""
    state.browser(request)
    return ok("BrowserControllerDatabaseStudies", studies=[state.ref("DicomStudy", s.id) for s in browser_order(state)])


@implements
def BrowserControllerDatabaseSelection(state: OsirixState, request: Any) -> Any:
    """What the user selected in the browser, split into studies and series."""
    state.browser(request)
    with state.lock:
        studies = [s for s in state.selected_studies if state.db.study(s) is not None]
        series = [s for s in state.selected_series if state.db.series_row(s) is not None]
    return ok(
        "BrowserControllerDatabaseSelection",
        studies=[state.ref("DicomStudy", s) for s in studies],
        series=[state.ref("DicomSeries", s) for s in series],
    )


@implements
def BrowserControllerCopyFilesIfNeeded(state: OsirixState, request: Any) -> Any:
    """Import the paths into the database, copying the files, on a background thread."""
    state.browser(request.browser)
    paths = list(request.paths)
    if not paths:
        raise RpcFailure("No paths provided")
    for path in paths:
        if not os.path.exists(path):
            raise RpcFailure(f"No such file: {path}")
        if not os.path.isfile(path):  # a folder ('/' ...) would start an unbounded import
            raise RpcFailure(f"Not a file: {path} - give the paths of DICOM files")
    state.import_in_background(paths)
    return ok("BrowserControllerCopyFilesIfNeeded")
