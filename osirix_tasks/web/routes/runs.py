"""Task Console: running runs and the history, live output (server-sent events), save, clear, cancel."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from ...errors import RunRefused
from ...run.store import RunStore
from .. import runs
from ..api import Call, api
from ..page import Page

#: How often a stream looks for new output and run changes (seconds).
POLL_SECONDS = 0.1


def listing(page: Page, call: Call) -> dict[str, Any]:
    store = page.store()
    store.mark_lost()
    return {"runs": [runs.run_summary(r) for r in store.runs(limit=int(call.query.get("limit", 100)))]}


def _record(page: Page, run_id: str) -> Any:
    record = page.store().get(run_id)
    if record is None:
        raise RunRefused(f"no run {run_id!r} - it may have been cleared")
    return record


def detail(page: Page, call: Call) -> dict[str, Any]:
    record = _record(page, call.path["run_id"])
    return {"run": runs.run_summary(record), "output": runs.output_of(page.store(), record.id)}


def download(page: Page, call: Call) -> Response:
    record = _record(page, call.path["run_id"])
    text = "".join(chunk["text"] for chunk in runs.output_of(page.store(), record.id))
    name = f"osirix-tasks-{record.id}.txt"
    return PlainTextResponse(text, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def cancel(page: Page, call: Call) -> dict[str, Any]:
    service = page.host.runs.service if page.host is not None else None
    record = runs.cancel(page.store(), _record(page, call.path["run_id"]).id, service)
    return {"run": runs.run_summary(record)}


def clear(page: Page, call: Call) -> dict[str, Any]:
    count = page.store().clear()
    return {"message": f"Cleared {count} finished run(s)", **listing(page, call)}


def _event(name: str, data: Any) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"


async def stream(request: Request) -> Response:
    """A run's output as it arrives (``chunk`` events), then an ``end`` event with how it ended."""
    run_id = request.path_params["run_id"]
    after = int(request.query_params.get("after", -1))

    async def events() -> AsyncIterator[str]:
        store = await run_in_threadpool(RunStore, request.app.state.page.store_path)
        seq = after
        try:
            while not await request.is_disconnected():
                record = await run_in_threadpool(store.get, run_id)
                if record is None:
                    yield _event("gone", {"id": run_id})
                    return
                chunks = await run_in_threadpool(runs.output_of, store, record.id, seq)
                for chunk in chunks:
                    seq = chunk["seq"]
                    yield _event("chunk", chunk)
                if record.finished:
                    rest = await run_in_threadpool(runs.output_of, store, record.id, seq)
                    for chunk in rest:
                        yield _event("chunk", chunk)
                    yield _event("end", runs.run_summary(record))
                    return
                await asyncio.sleep(POLL_SECONDS)
        finally:
            store.close()

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


async def changes(request: Request) -> Response:
    """A ``runs`` event whenever a run starts, changes state or ends (the views refresh on it)."""

    async def events() -> AsyncIterator[str]:
        store = await run_in_threadpool(RunStore, request.app.state.page.store_path)
        last: list[tuple[str, str]] | None = None
        beat = time.monotonic()
        try:
            while not await request.is_disconnected():
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

    return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})


routes = [
    Route("/api/runs", api(listing), methods=["GET"]),
    Route("/api/runs/clear", api(clear), methods=["POST"]),
    Route("/api/runs/events", changes, methods=["GET"]),
    Route("/api/runs/{run_id}", api(detail), methods=["GET"]),
    Route("/api/runs/{run_id}/stream", stream, methods=["GET"]),
    Route("/api/runs/{run_id}/download", api(download), methods=["GET"]),
    Route("/api/runs/{run_id}/cancel", api(cancel), methods=["POST"]),
]
