"""Task Console: running runs and the history, live output (server-sent events), save, clear, cancel."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ...errors import BadRequest, RunRefused
from ...run.store import RunStore
from .. import runs
from ..api import Call, api, integer_of
from ..page import Page
from ..streams import StreamSlot, TooManyStreams

#: How often a stream looks for new output and run changes (seconds).
POLL_SECONDS = 0.1


def listing(page: Page, call: Call) -> dict[str, Any]:
    """The run history, most recent first (``?limit=``, 100 by default)."""
    store = page.store()
    store.mark_lost()
    limit = call.integer("limit", 100, low=1, high=10_000)
    return {"runs": [runs.run_summary(r) for r in store.runs(limit=limit)]}


def _record(page: Page, run_id: str) -> Any:
    record = page.store().get(run_id)
    if record is None:
        raise RunRefused(f"no run {run_id!r} - it may have been cleared")
    return record


def detail(page: Page, call: Call) -> dict[str, Any]:
    """One run's record and its output so far."""
    record = _record(page, call.path["run_id"])
    return {"run": runs.run_summary(record), "output": runs.output_of(page.store(), record.id)}


def download(page: Page, call: Call) -> Response:
    """One run's output as a text file."""
    record = _record(page, call.path["run_id"])
    text = "".join(chunk["text"] for chunk in runs.output_of(page.store(), record.id))
    name = f"osirix-tasks-{record.id}.txt"
    return PlainTextResponse(text, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def cancel(page: Page, call: Call) -> dict[str, Any]:
    """Cancel a run: its whole process group is stopped."""
    service = page.host.runs.service if page.host is not None else None
    record = runs.cancel(page.store(), _record(page, call.path["run_id"]).id, service)
    return {"run": runs.run_summary(record)}


def clear(page: Page, call: Call) -> dict[str, Any]:
    """Delete every finished run and its output from the run store."""
    count = page.store().clear()
    return {"message": f"Cleared {count} finished run(s)", **listing(page, call)}


#: The event streams of the page (a browser opens them with a ticket, see ..tickets).
_STREAM_PATH = re.compile(r"^/api/runs/(?:events|[^/]+/stream)$")


def is_stream(path: str) -> bool:
    """Whether ``path`` is one of the page's event streams."""
    return bool(_STREAM_PATH.match(path))


def _event(name: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, allow_nan=False)}\n\n"


def _slot(request: Request) -> StreamSlot | Response:
    """A stream slot, or the 503 answer when every one is taken."""
    page: Page = request.app.state.page
    try:
        return page.streams.take()
    except TooManyStreams as exc:
        return JSONResponse({"error": str(exc)}, status_code=503, headers={"Retry-After": "5"})


def _streaming(events: AsyncIterator[str], slot: StreamSlot) -> Response:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store"},
        background=BackgroundTask(slot.release),
    )


async def stream(request: Request) -> Response:
    """A run's output as it arrives (``chunk`` events, their id the chunk's sequence number), then an
    ``end`` event with how it ended. The stream ends after a while (STREAM_SECONDS); the page opens a
    new one with ``last_event_id`` and goes on from there."""
    run_id = request.path_params["run_id"]
    try:
        after = integer_of("last_event_id", request.query_params.get("last_event_id", -1), low=-1)
    except BadRequest as exc:
        return JSONResponse({"error": str(exc), "field": exc.field}, status_code=400)
    slot = _slot(request)
    if isinstance(slot, Response):
        return slot

    async def events() -> AsyncIterator[str]:
        store = await run_in_threadpool(RunStore, request.app.state.page.store_path)
        seq = after
        try:
            while not slot.expired and not await request.is_disconnected():
                record = await run_in_threadpool(store.get, run_id)
                if record is None:
                    yield _event("gone", {"id": run_id})
                    return
                for chunk in await run_in_threadpool(runs.output_of, store, record.id, seq):
                    seq = chunk["seq"]
                    yield _event("chunk", chunk, seq)
                if record.finished:
                    for chunk in await run_in_threadpool(runs.output_of, store, record.id, seq):
                        yield _event("chunk", chunk, chunk["seq"])
                    yield _event("end", runs.run_summary(record))
                    return
                await asyncio.sleep(POLL_SECONDS)
        finally:
            store.close()
            slot.release()

    return _streaming(events(), slot)


async def changes(request: Request) -> Response:
    """A ``runs`` event whenever a run starts, changes state or ends (the views refresh on it); the
    first event lists the runs as they are. Ends after STREAM_SECONDS (the page reconnects)."""
    slot = _slot(request)
    if isinstance(slot, Response):
        return slot

    async def events() -> AsyncIterator[str]:
        store = await run_in_threadpool(RunStore, request.app.state.page.store_path)
        last: list[tuple[str, str]] | None = None
        beat = time.monotonic()
        try:
            while not slot.expired and not await request.is_disconnected():
                records = await run_in_threadpool(store.runs, 30)
                now = [(r.id, r.status) for r in records]
                if now != last:
                    last = now
                    yield _event("runs", [runs.run_summary(r) for r in records])
                elif time.monotonic() - beat > 15:
                    yield ": keep-alive\n\n"
                    beat = time.monotonic()
                await asyncio.sleep(POLL_SECONDS * 2)
        finally:
            store.close()
            slot.release()

    return _streaming(events(), slot)


routes = [
    Route("/api/runs", api(listing), methods=["GET"]),
    Route("/api/runs/clear", api(clear), methods=["POST"]),
    Route("/api/runs/events", changes, methods=["GET"]),
    Route("/api/runs/{run_id}", api(detail), methods=["GET"]),
    Route("/api/runs/{run_id}/stream", stream, methods=["GET"]),
    Route("/api/runs/{run_id}/download", api(download), methods=["GET"]),
    Route("/api/runs/{run_id}/cancel", api(cancel), methods=["POST"]),
]
