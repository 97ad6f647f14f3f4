"""The query/retrieve window: the remote nodes of tasks.toml, search one, retrieve a study into the
database (C-GET, or C-MOVE to this host's node), send a study or its SEG/SR results; and what this
host's node received lately, for the page to refresh the database as series arrive."""

from __future__ import annotations

from typing import Any

from starlette.routing import Route

from ...dicomnode import scu
from ...dicomnode.query import files_to_send
from ...dicomnode.settings import load_dicom_settings, remote_node
from ...errors import DicomNodeError
from ...model import DicomSettings, RemoteNode
from ..api import Call, api
from ..context import WebContext

#: Longest wait of one ``arrivals`` request (the page asks again).
MAX_WAIT_SECONDS = 20.0


def _settings(context: WebContext) -> DicomSettings:
    node = context.host.dicom if context.host is not None else None
    return node.settings if node is not None else load_dicom_settings(context.registry)


def _remote(context: WebContext, call: Call) -> tuple[DicomSettings, RemoteNode]:
    settings = _settings(context)
    return settings, remote_node(settings, str(call.body.get("node") or ""))


def _keys(call: Call) -> dict[str, str]:
    keys = call.body.get("keys") or {}
    if not isinstance(keys, dict):
        raise DicomNodeError("keys must be an object of KEYWORD: value")
    return {str(k): str(v) for k, v in keys.items()}


def status(context: WebContext, call: Call) -> dict[str, Any]:
    settings = _settings(context)
    node = context.host.dicom if context.host is not None else None
    return {
        "node": node.info() if node is not None else None,
        "ae_title": settings.ae_title,
        "nodes": [n.to_json() for n in settings.node],
    }


def echo(context: WebContext, call: Call) -> dict[str, Any]:
    settings, remote = _remote(context, call)
    seconds = scu.echo(settings.ae_title, remote)
    return {"message": f"{remote.name} answered in {seconds * 1000:.0f} ms"}


def find(context: WebContext, call: Call) -> dict[str, Any]:
    settings, remote = _remote(context, call)
    level = str(call.body.get("level") or "study")
    return {"results": scu.find(settings.ae_title, remote, level, _keys(call))}


def retrieve(context: WebContext, call: Call) -> dict[str, Any]:
    settings, remote = _remote(context, call)
    level = str(call.body.get("level") or "study")
    if call.body.get("how") == "move":
        node = context.host.dicom if context.host is not None else None
        if node is None:
            raise DicomNodeError(
                "this host is not listening as a DICOM node - start it with --dicom-port, or use C-GET"
            )
        outcome = scu.move(settings.ae_title, remote, level, _keys(call), settings.ae_title)
    else:
        if context.host is None:
            raise DicomNodeError("retrieving needs this host's database - open the page of a host of ours")
        outcome = scu.get(settings.ae_title, remote, level, _keys(call), context.host.state.db)
    return {"message": str(outcome), "outcome": outcome.to_json()}


def send(context: WebContext, call: Call) -> dict[str, Any]:
    settings, remote = _remote(context, call)
    if context.host is None:
        raise DicomNodeError("sending from the database needs a host of ours")
    modalities = [str(m) for m in call.body.get("modalities") or [] if str(m).strip()]
    files = files_to_send(
        context.host.state.db,
        study=str(call.body.get("study") or "") or None,
        series=str(call.body.get("series") or "") or None,
        modalities=modalities,
    )
    outcome = scu.send(settings.ae_title, remote, files)
    return {"message": str(outcome), "outcome": outcome.to_json()}


def arrivals(context: WebContext, call: Call) -> dict[str, Any]:
    node = context.host.dicom if context.host is not None else None
    if node is None:
        return {"seq": 0, "arrivals": [], "listening": False}
    wait = min(max(call.number("wait", 0), 0.0), MAX_WAIT_SECONDS)
    seq, found = node.arrivals_after(int(call.number("after", 0)), wait)
    return {"seq": seq, "arrivals": found, "listening": True}


routes = [
    Route("/api/dicom", api(status), methods=["GET"]),
    Route("/api/dicom/arrivals", api(arrivals), methods=["GET"]),
    Route("/api/dicom/echo", api(echo), methods=["POST"]),
    Route("/api/dicom/find", api(find), methods=["POST"]),
    Route("/api/dicom/retrieve", api(retrieve), methods=["POST"]),
    Route("/api/dicom/send", api(send), methods=["POST"]),
]
