"""Runs asked of a running host over its control channel: the third kind of ``where`` of
:func:`osirix_tasks.run.start.start`.

The host resolves the task in its own catalog cache, plans the run exactly as this process would,
supervises it and streams its output back; Ctrl-C here cancels it there. Light on imports: the
CLI's way to a host loads no catalog, no plugins and no models.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

from ..contract import Target
from ..errors import OsirixTasksError
from ..run.record import RunRecord
from ..run.start import Follow, TaskRequest
from .control import HostInfo, ask, send, stream
from .control_protocol import RUN_ID_STREAM, CancelRun, OutputFrame, StartRun

__all__ = ["OnHost"]


class OnHost:
    """A host of ours supervises the run; its records go to the run store at ``store``."""

    def __init__(self, host: HostInfo, store: Path):
        self.host = host
        self.store = store

    def request(self, task: TaskRequest, target: Target | None, follow: Follow) -> StartRun:
        """The control request that starts ``task`` on the host."""
        return StartRun(
            name=task.name,
            type=task.type,
            args=list(task.args),
            server=task.address,
            timeout=task.timeout,
            background=not follow,
            registry=str(task.registry),
            store=str(self.store),
            environ=dict(task.environ or {}),
            env=dict(task.env),
            target=target.to_json() if target is not None else None,
        )

    def start(self, task: TaskRequest, target: Target | None, follow: Follow) -> RunRecord:
        """Ask the host to start the run; with ``follow``, pass its output on until it ends."""
        request = self.request(task, target, follow)
        if not follow:
            return RunRecord.from_json(ask(self.host, request).data["record"])
        echo = follow if callable(follow) else None
        run_id: list[str] = []

        def on_interrupt(signum: int, frame: Any) -> None:  # cancel it there; the stream tells how it ended
            if run_id:
                cancel = CancelRun(run_id=run_id[0], store=str(self.store))
                threading.Thread(target=send, args=(self.host, cancel), daemon=True).start()

        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, on_interrupt) if main else None
        try:
            for frame in stream(self.host, request):
                if isinstance(frame, OutputFrame):
                    if frame.stream == RUN_ID_STREAM:
                        run_id.append(frame.text)
                    elif echo is not None:
                        echo(frame.stream, frame.text)
                    continue
                if not frame.ok:
                    raise OsirixTasksError(frame.message)
                return RunRecord.from_json(frame.data["record"])
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)
        raise OsirixTasksError(f"the host (pid {self.host.pid}) ended the run's stream without its record")
