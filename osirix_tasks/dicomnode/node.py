"""The DICOM node as the host runs it: receiver, listening AE, query over the index, triggers,
and the feed of arrivals the page follows."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from ..emulator.database.index import Database
from ..model import DicomSettings, TriggerSpec
from .query import IndexQuery
from .receiver import Arrival, Receiver, Staged
from .scp import NodeServer
from .triggers import StartRun, TriggerWatch

__all__ = ["DicomNode", "RECENT"]

log = logging.getLogger(__name__)
#: Arrivals kept for the page (each with a sequence number it asks "what came after N" with).
RECENT = 256


class DicomNode:
    """One listening DICOM node over the host's database."""

    def __init__(
        self,
        db: Database,
        settings: DicomSettings,
        triggers: list[TriggerSpec] | None = None,
        start_run: StartRun | None = None,
        *,
        on_indexed: Callable[[], object] | None = None,
    ):
        """``start_run`` starts the triggers' runs (None: no triggers fire); ``on_indexed`` is told
        each time received instances were indexed (the host bumps its database change counter)."""
        self.db = db
        self.settings = settings
        self.query = IndexQuery(db)
        self.watch = TriggerWatch(triggers or [], start_run) if triggers and start_run is not None else None
        self._recent: deque[tuple[int, Arrival]] = deque(maxlen=RECENT)
        self._sequence = 0
        self._lock = threading.Lock()
        self._on_indexed = on_indexed
        self.receiver = Receiver(db, self._indexed, on_staged=self._staged)
        self.server = NodeServer(settings, self.receiver, self.query)

    def start(self, port: int) -> int:
        """Listen on the settings' address and ``port`` (0: a free one); returns the port."""
        bound = self.server.start(port)
        log.info("DICOM node %s listening on %s:%d", self.settings.ae_title, self.settings.address, bound)
        return bound

    def stop(self) -> None:
        """Stop listening, index what was received, stop the triggers."""
        self.server.stop()
        self.receiver.close()
        if self.watch is not None:
            self.watch.close()

    @property
    def port(self) -> int:
        """The port listened on."""
        return self.server.port

    def info(self) -> dict[str, Any]:
        """What the host reports of its node (Status, the page)."""
        return {
            "ae_title": self.settings.ae_title,
            "address": self.settings.address,
            "port": self.port,
            "received": self.receiver.indexed,
            "pending": self.receiver.pending(),
            "nodes": [n.to_json() for n in self.settings.node],
            "triggers": [t.label for t in self.watch.triggers] if self.watch else [],
            "fired": [{"trigger": t, "run": r} for t, r in self.watch.fired] if self.watch else [],
        }

    # --- arrivals --------------------------------------------------------------------------

    def _staged(self, item: Staged) -> None:
        if self.watch is not None:
            header = item.header
            self.watch.staged(header["study"]["study_instance_uid"], header["series"]["series_key"])

    def _indexed(self, arrivals: list[Arrival]) -> None:
        if self.watch is not None:
            self.watch.arrived(arrivals)
        if self._on_indexed is not None and any(a.instances for a in arrivals):
            self._on_indexed()
        with self._lock:
            for arrival in arrivals:
                self._sequence += 1
                self._recent.append((self._sequence, arrival))

    def arrivals_after(self, sequence: int) -> tuple[int, list[dict[str, Any]]]:
        """The arrivals kept after number ``sequence``, and the number of the latest."""
        with self._lock:
            return self._sequence, [{"seq": n, **a.to_json()} for n, a in self._recent if n > sequence]
