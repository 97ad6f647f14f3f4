"""The DICOM node as the host runs it: receiver, listening AE, query over the index, triggers,
and the feed of arrivals the page follows."""

from __future__ import annotations

import logging
import threading
from collections import deque
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
    ):
        self.db = db
        self.settings = settings
        self.query = IndexQuery(db)
        self.watch = TriggerWatch(triggers or [], start_run) if triggers and start_run is not None else None
        self._recent: deque[tuple[int, Arrival]] = deque(maxlen=RECENT)
        self._sequence = 0
        self._changed = threading.Condition()
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
        with self._changed:
            self._changed.notify_all()

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
        with self._changed:
            for arrival in arrivals:
                self._sequence += 1
                self._recent.append((self._sequence, arrival))
            self._changed.notify_all()

    def arrivals_after(self, sequence: int, wait: float = 0.0) -> tuple[int, list[dict[str, Any]]]:
        """The arrivals after ``sequence`` (waiting up to ``wait`` seconds for one) and the latest number."""
        with self._changed:
            if self._sequence <= sequence and wait > 0:
                self._changed.wait(wait)
            return self._sequence, [{"seq": n, **a.to_json()} for n, a in self._recent if n > sequence]
