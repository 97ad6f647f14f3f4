"""Triggers: a ``[[trigger]]`` of tasks.toml starts a run on a series (or a study) once it has
arrived and nothing more of it has come for ``stable_seconds``, if its attributes match the
trigger's filters (modality, description pattern, calling AE title).

Each trigger fires once per series (or study) while the host runs: a series sent again later is
not run again. Activity counts from the moment an instance is received (before it is indexed),
so a series still arriving never looks stable; the run starts once every received instance of it
is indexed. A run refused because a blocking task is running is tried again on the next tick.
"""

from __future__ import annotations

import fnmatch
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..contract import Target
from ..errors import OsirixTasksError, RunBlocked
from ..model import TriggerLevel, TriggerSpec
from .receiver import Arrival

__all__ = ["TriggerWatch", "StartRun"]

log = logging.getLogger(__name__)
#: ``start(trigger, target, triggered_by) -> run id``: how a trigger starts its run (the host's run path).
StartRun = Callable[[TriggerSpec, Target, dict[str, Any]], str]


@dataclass
class _Watched:
    """A series or study seen arriving: what is known of it, when it last changed."""

    study_uid: str
    series_key: str | None
    last: float
    #: Instances received and settled in the index (new or already there), and received at all.
    indexed: int = 0
    staged: int = 0
    modalities: set[str] = field(default_factory=set)
    descriptions: set[str] = field(default_factory=set)
    calling_aets: set[str] = field(default_factory=set)


def _key(level: TriggerLevel, study_uid: str, series_key: str) -> str:
    return series_key if level == TriggerLevel.SERIES else study_uid


class TriggerWatch:
    """Tracks what arrives and fires the triggers on what has become stable."""

    def __init__(self, triggers: list[TriggerSpec], start: StartRun, *, clock: Callable[[], float] = time.monotonic):
        self.triggers = list(triggers)
        self._start = start
        self._clock = clock
        self._watched: dict[tuple[TriggerLevel, str], _Watched] = {}
        self._fired: set[tuple[int, str]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.fired: list[tuple[str, str]] = []  # (trigger label, run id), for status
        tick = min((t.stable_seconds for t in self.triggers), default=1.0) / 4
        self._tick = min(max(tick, 0.05), 1.0)
        self._thread = threading.Thread(target=self._loop, name="dicom-triggers", daemon=True)
        if self.triggers:
            self._thread.start()

    def levels(self) -> set[TriggerLevel]:
        """The levels some trigger watches."""
        return {t.level for t in self.triggers}

    def _entry(self, level: TriggerLevel, study_uid: str, series_key: str, now: float) -> _Watched:
        """The watched series or study (created on first sight); call with the lock held."""
        series = series_key if level == TriggerLevel.SERIES else None
        return self._watched.setdefault((level, _key(level, study_uid, series_key)), _Watched(study_uid, series, now))

    def staged(self, study_uid: str, series_key: str) -> None:
        """An instance of the series was received (it is not indexed yet): it is still arriving."""
        now = self._clock()
        with self._lock:
            for level in self.levels():
                watched = self._entry(level, study_uid, series_key, now)
                watched.last = now
                watched.staged += 1

    def arrived(self, arrivals: list[Arrival]) -> None:
        """Instances were indexed: remember their attributes."""
        now = self._clock()
        with self._lock:
            for arrival in arrivals:
                for level in self.levels():
                    watched = self._entry(level, arrival.study_uid, arrival.series_key, now)
                    watched.indexed += arrival.received
                    watched.modalities.add(arrival.modality)
                    series_level = level == TriggerLevel.SERIES
                    watched.descriptions.add(arrival.series_description if series_level else arrival.study_description)
                    if arrival.calling_aet:
                        watched.calling_aets.add(arrival.calling_aet)

    def close(self) -> None:
        """Stop watching."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    # --- firing ----------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.wait(self._tick):
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the watch must go on
                log.exception("checking the triggers failed")

    def check(self) -> None:
        """Fire every trigger whose series or study has been stable long enough."""
        now = self._clock()
        due: list[tuple[int, TriggerSpec, str, _Watched]] = []
        with self._lock:
            for (level, key), watched in list(self._watched.items()):
                if watched.indexed < watched.staged:  # received, not indexed yet
                    continue
                pending = False
                for index, trigger in enumerate(self.triggers):
                    if trigger.level != level or (index, key) in self._fired:
                        continue
                    if now - watched.last < trigger.stable_seconds:
                        pending = True
                        continue
                    if _matches(trigger, watched):
                        due.append((index, trigger, key, watched))
                    self._fired.add((index, key))
                mine = [i for i, t in enumerate(self.triggers) if t.level == level]
                if not pending and all((i, key) in self._fired for i in mine):
                    del self._watched[(level, key)]
        for index, trigger, key, watched in due:
            self._fire(index, trigger, key, watched)

    def _fire(self, index: int, trigger: TriggerSpec, key: str, watched: _Watched) -> None:
        target = Target(study=watched.study_uid, series=watched.series_key)
        triggered_by = {
            "trigger": trigger.label,
            "level": trigger.level.value,
            "study": watched.study_uid,
            "series": watched.series_key,
            "instances": watched.indexed,
            "modalities": sorted(watched.modalities),
            "calling_aets": sorted(watched.calling_aets),
        }
        try:
            run_id = self._start(trigger, target, triggered_by)
        except RunBlocked as exc:
            log.info("trigger %r waits: %s", trigger.label, exc)
            with self._lock:
                self._fired.discard((index, key))
                self._watched.setdefault((trigger.level, key), watched)
            return
        except OsirixTasksError as exc:
            log.warning("trigger %r could not start %r on %s: %s", trigger.label, trigger.task, key, exc)
            return
        log.info("trigger %r started run %s of %r on %s", trigger.label, run_id, trigger.task, key)
        with self._lock:
            self.fired.append((trigger.label, run_id))
            del self.fired[:-256]


def _matches(trigger: TriggerSpec, watched: _Watched) -> bool:
    if trigger.modality and not watched.modalities & set(trigger.modality):
        return False
    if trigger.description and not any(
        fnmatch.fnmatchcase(d.lower(), trigger.description.lower()) for d in watched.descriptions
    ):
        return False
    return not (trigger.calling_aet and not watched.calling_aets & set(trigger.calling_aet))
