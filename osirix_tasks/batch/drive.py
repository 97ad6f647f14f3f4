"""A recorded batch driven by a process of its own: ``python -m osirix_tasks.batch.drive --store PATH
--registry PATH BATCH_ID``.

The page records a batch (its selection checked, every item pending) and starts this process to run it
(:mod:`osirix_tasks.web.batch_starts`), so the host serves on while the batch runs on its Dask cluster.
It drives the batch as ``osirix-tasks batch`` does, recorded in the same run store: the Batch view,
``batch show``, ``batch cancel`` and ``batch resume`` see it as any other.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import OsirixTasksError
from .records import BatchRecords, BatchStatus

__all__ = ["main", "command"]


def command(store: Path, registry: Path, batch_id: str) -> list[str]:
    """The command that drives batch ``batch_id`` of ``store`` with the tasks of ``registry``."""
    return [
        sys.executable,
        "-m",
        "osirix_tasks.batch.drive",
        "--store",
        str(store),
        "--registry",
        str(registry),
        batch_id,
    ]


def main(argv: list[str] | None = None) -> int:
    """Claim the batch and run its items; the exit code says whether every item succeeded (0) or not (1)."""
    parser = argparse.ArgumentParser(prog="python -m osirix_tasks.batch.drive")
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("batch_id")
    options = parser.parse_args(argv)
    from ..catalog import build_catalog
    from ..registry import load_registry
    from ..run.store import RunStore
    from .service import run_batch

    records = BatchRecords(RunStore(options.store))
    records.claim(options.batch_id)
    try:
        catalog = build_catalog(load_registry(options.registry))
        status = run_batch(records, catalog, options.batch_id)
    except OsirixTasksError as exc:  # the task went away, a scheduler nobody answers at ...
        if not records.get(options.batch_id).finished:
            records.finish(options.batch_id, BatchStatus.ERROR, str(exc))
        print(f"osirix-tasks: batch {options.batch_id}: {exc}", file=sys.stderr)
        return 1
    finally:
        records.store.close()
    return 0 if status == BatchStatus.SUCCEEDED else 1


if __name__ == "__main__":
    sys.exit(main())
