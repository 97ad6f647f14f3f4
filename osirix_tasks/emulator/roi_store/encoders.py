"""Worker processes that encode many planes' ROIs at once (a bulk save: a task or a script drawing
hundreds of ROIs, a viewer closing with many changed planes).

Building a plane's SR and SEG with highdicom is pure-Python work of about 15 ms per ROI, which one
thread cannot spread over the machine's cores. A save of at least :data:`BULK` ROIs is handed to a
pool of at most :data:`MAX_WORKERS` processes (``spawn``: a fresh interpreter, no copy of the
host's threads), each writing whole planes' files atomically; the saver's thread indexes each
plane as its files are done, in order. The pool lives for one save only: no idle process, and no
memory held, between saves. A worker that dies (or a pool that cannot start) leaves the remaining
planes to the saver's thread: nothing is lost, only slower.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .planes import Encoded, EncodeJob, encode_plane

__all__ = ["encode_all", "BULK", "MAX_WORKERS"]

log = logging.getLogger(__name__)
#: A save of fewer ROIs is encoded on the saver's thread: starting a worker (a fresh interpreter
#: loading highdicom and the DICOM tables) takes 1.5 to 3 s, the encoding of 300 ROIs about 5 s.
BULK = 300
#: At most this many worker processes (never more than the machine's cores).
MAX_WORKERS = 4


def _warm() -> None:
    """A worker's start: load what the first plane would otherwise load (highdicom, its tables)."""
    from .store import _import_writers

    _import_writers()


def _rois(jobs: Sequence[EncodeJob]) -> int:
    return sum(len(job.plane.rois) for job in jobs)


def _workers(rois: int) -> int:
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1, rois // max(1, BULK // 2)))


def _local(jobs: Sequence[EncodeJob]) -> Iterator[tuple[EncodeJob, Encoded | BaseException]]:
    for job in jobs:
        try:
            yield job, encode_plane(job)
        except Exception as exc:
            yield job, exc


def encode_all(
    jobs: Sequence[EncodeJob],
    *,
    bulk: int | None = None,
    pool_factory: Callable[[int], ProcessPoolExecutor] | None = None,
) -> Iterator[tuple[EncodeJob, Encoded | BaseException]]:
    """Encode every job's plane; yields ``(job, Encoded or the error)`` in the jobs' order, each as
    soon as it (and the ones before it) is done. Fewer than ``bulk`` (:data:`BULK`) ROIs in all: on
    this thread; ``pool_factory(workers)`` makes the pool (a test's)."""
    if _rois(jobs) < (BULK if bulk is None else bulk):
        yield from _local(jobs)
        return
    try:
        pool = (pool_factory or _pool)(_workers(_rois(jobs)))
    except Exception:  # no processes here (a sandbox, a limit): this thread does it
        log.exception("could not start the ROI encoding workers; encoding on the saver's thread")
        yield from _local(jobs)
        return
    with pool:
        futures: list[Future[Encoded]] = [pool.submit(encode_plane, job) for job in jobs]
        for number, (job, future) in enumerate(zip(jobs, futures, strict=True)):
            try:
                yield job, future.result()
            except BrokenProcessPool:
                log.warning("an ROI encoding worker died; the saver's thread encodes the remaining planes")
                for other in futures[number:]:
                    other.cancel()
                yield from _local(jobs[number:])
                return
            except Exception as exc:
                yield job, exc


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_warm)
