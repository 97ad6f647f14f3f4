"""Helpers shared by the test rooms (fixtures live in ``conftest.py``)."""

from __future__ import annotations

from typing import Any


def ok(response: Any) -> Any:
    """The response, after asserting that OsiriX answered status 1 (the message is the assertion's)."""
    assert response.status.status == 1, response.status.message
    return response


def image_series(stub: Any, study: Any) -> Any:
    """The study's one image series: OsiriX also lists its own ROI series (``OsiriX ROI SR`` ...) in a
    study once ROIs were drawn, and the ROIs drawn by earlier tests of a module persist."""
    found = [
        s
        for s in ok(stub.DicomStudySeries(study)).series
        if not ok(stub.DicomSeriesSeriesDescription(s)).series_description.startswith("OsiriX ROI")
    ]
    assert len(found) == 1, f"{len(found)} image series"
    return found[0]
