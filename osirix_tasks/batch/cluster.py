"""The Dask cluster a batch runs on: an existing scheduler, or a local cluster sized to the machine.

The local cluster is a ``distributed.LocalCluster`` of worker processes (one thread each, one per
core), bound to 127.0.0.1, without a dashboard. An existing cluster is reached at ``tcp://HOST:PORT``
(``--scheduler``, or ``batch_scheduler`` in the registry's settings); an address nobody answers at is
refused with a clear message.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

from ..errors import SchedulerUnreachable

__all__ = ["open_client", "local_workers", "CONNECT_SECONDS"]

#: How long to wait for an existing scheduler to answer.
CONNECT_SECONDS = 10.0


def local_workers() -> int:
    """Worker processes of the default local cluster: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _is_local(address: str) -> bool:
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    return host in ("127.0.0.1", "localhost", "::1")


@contextlib.contextmanager
def open_client(scheduler: str | None, *, workers: int | None = None) -> Iterator[tuple[Any, bool]]:
    """A connected ``distributed.Client`` and whether its workers can reach this machine's 127.0.0.1
    (a local cluster, or a scheduler on 127.0.0.1); the local cluster is stopped afterwards."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_SECONDS, set_as_default=True)
        except (OSError, TimeoutError) as exc:
            raise SchedulerUnreachable(
                f"no Dask scheduler answers at {scheduler} ({type(exc).__name__}: {exc}) - start one ('dask scheduler' "
                "and 'dask worker ADDRESS' on each machine), or leave out --scheduler to use a local cluster"
            ) from None
        try:
            yield client, _is_local(scheduler)
        finally:
            client.close()
        return
    import dask

    # Our own cluster, for items that hold nothing between them: no statistical profiler sampling every
    # 10 ms, no memory monitor every 100 ms, no work stealing every 100 ms (the driver keeps each worker
    # fed), a relaxed event-loop watchdog - together they cost more CPU than an item's own overhead.
    dask.config.set(
        {
            "distributed.worker.profile.enabled": False,
            "distributed.worker.memory.spill": False,
            "distributed.worker.memory.target": False,
            "distributed.worker.memory.pause": False,
            "distributed.worker.memory.terminate": False,
            "distributed.scheduler.work-stealing": False,
            "distributed.admin.tick.interval": "500ms",
        }
    )
    cluster = LocalCluster(
        n_workers=workers or local_workers(),
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    client = Client(cluster, set_as_default=True)
    try:
        yield client, True
    finally:
        client.close()
        cluster.close()
