"""The query/retrieve window: the remote nodes of tasks.toml, search one, retrieve a study into this
host's database (C-GET, or C-MOVE to this host's node), send a study or its SEG/SR results; and what
this host's node received lately. The database view hears of what arrives through the host's
``browser`` change counter (``GET /api/changes``), which the node and a C-GET move."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.routing import Route

from ...dicomnode import scu
from ...dicomnode.query import files_to_send
from ...dicomnode.settings import load_dicom_settings, remote_node
from ...errors import BadRequest, DicomNodeError
from ...model import DicomSettings, RemoteNode
from ..api import Call, api
from ..page import Page

if TYPE_CHECKING:
    from ...dicomnode.node import DicomNode
    from ...host.process import Host

#: The query levels, as the window offers them.
LEVELS = ("patient", "study", "series", "image")


def _node(page: Page) -> DicomNode | None:
    return page.host.dicom if page.host is not None else None


def _settings(page: Page) -> DicomSettings:
    """The listening node's settings (with the ``serve`` options laid over tasks.toml), else tasks.toml's."""
    node = _node(page)
    return node.settings if node is not None else load_dicom_settings(page.registry)


def _remote(page: Page, call: Call) -> tuple[DicomSettings, RemoteNode]:
    settings = _settings(page)
    name = call.body.get("node")
    if not isinstance(name, str) or not name:
        raise BadRequest("node", f"must be the name of a [[dicom.node]] of tasks.toml, got {name!r}")
    return settings, remote_node(settings, name)


def _level(call: Call) -> str:
    level = call.body.get("level") or "study"
    if level not in LEVELS:
        raise BadRequest("level", f"must be one of {', '.join(LEVELS)}, got {level!r}")
    return str(level)


def _keys(call: Call) -> dict[str, str]:
    keys = call.mapping("keys")
    if not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in keys.values()):
        raise BadRequest("keys", f"must be an object of KEYWORD: value (text), got {keys!r}")
    return {str(k): str(v) for k, v in keys.items()}


def _text(call: Call, name: str) -> str | None:
    value = call.body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BadRequest(name, f"must be a UID (text), got {value!r}")
    return value.strip() or None


def _host(page: Page, what: str) -> Host:
    if page.host is None:
        raise DicomNodeError(f"{what} needs the database of a host of ours - open the page of one")
    return page.host


def status(page: Page, call: Call) -> dict[str, Any]:
    """This host's node (None when it does not listen), its AE title and the remote nodes."""
    settings = _settings(page)
    node = _node(page)
    return {
        "node": node.info() if node is not None else None,
        "ae_title": settings.ae_title,
        "nodes": [n.to_json() for n in settings.node],
    }


def echo(page: Page, call: Call) -> dict[str, Any]:
    """C-ECHO a node of the registry's ``[[dicom.node]]``; how long it took to answer."""
    settings, remote = _remote(page, call)
    seconds = scu.echo(settings.ae_title, remote)
    return {"message": f"{remote.name} answered in {seconds * 1000:.0f} ms"}


def find(page: Page, call: Call) -> dict[str, Any]:
    """C-FIND on a node of the registry at a level with keys; the matches."""
    settings, remote = _remote(page, call)
    return {"results": scu.find(settings.ae_title, remote, _level(call), _keys(call))}


def retrieve(page: Page, call: Call) -> dict[str, Any]:
    """C-MOVE to this host's node (``how`` = ``move``), else C-GET into this host's database."""
    settings, remote = _remote(page, call)
    level, keys = _level(call), _keys(call)
    if call.body.get("how") == "move":
        if _node(page) is None:
            raise DicomNodeError(
                "this host is not listening as a DICOM node - start it with --dicom-port, or use C-GET"
            )
        outcome = scu.move(settings.ae_title, remote, level, keys, settings.ae_title)
    else:
        host = _host(page, "Retrieving")
        outcome = scu.get(settings.ae_title, remote, level, keys, host.state.db)
        if outcome.imported:
            host.state.changes.touch_state("browser")
    return {"message": str(outcome), "outcome": outcome.to_json()}


def send(page: Page, call: Call) -> dict[str, Any]:
    """C-STORE a study or series of this host's database (only some modalities: a task's SEG/SR)."""
    settings, remote = _remote(page, call)
    host = _host(page, "Sending from the database")
    study, series = _text(call, "study"), _text(call, "series")
    if study is None and series is None:
        raise BadRequest("study", "give the StudyInstanceUID (or a series' SeriesInstanceUID) of the database")
    files = files_to_send(
        host.state.db,
        study=study,
        series=series,
        modalities=[m.strip() for m in call.strings("modalities") if m.strip()],
    )
    outcome = scu.send(settings.ae_title, remote, files)
    return {"message": str(outcome), "outcome": outcome.to_json()}


def arrivals(page: Page, call: Call) -> dict[str, Any]:
    """What this host's node received after arrival number ``after`` (the page asks when the database changed)."""
    after = call.integer("after", 0, low=0, high=2**63 - 1)
    node = _node(page)
    if node is None:
        return {"seq": 0, "arrivals": [], "listening": False}
    seq, found = node.arrivals_after(after)
    return {"seq": seq, "arrivals": found, "listening": True}


routes = [
    Route("/api/dicom", api(status), methods=["GET"]),
    Route("/api/dicom/arrivals", api(arrivals), methods=["GET"]),
    Route("/api/dicom/echo", api(echo), methods=["POST"]),
    Route("/api/dicom/find", api(find), methods=["POST"]),
    Route("/api/dicom/retrieve", api(retrieve), methods=["POST"]),
    Route("/api/dicom/send", api(send), methods=["POST"]),
]
