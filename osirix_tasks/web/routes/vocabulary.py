"""OsiriX's enumerations for the page (ROI types and their shapes, rendering modes, task types), from
:mod:`osirix_tasks.vocabulary`: the page draws with the same table the emulator builds ROIs from."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ... import vocabulary
from ..api import Call, api
from ..page import Page


def listing(page: Page, call: Call) -> dict[str, Any]:
    """OsiriX's enumerations as JSON: ROI types (code, name, shape...) and rendering modes."""
    return vocabulary.as_json()


routes = [Route("/api/vocabulary", api(listing), methods=["GET"])]
