"""A background run's detached supervisor: ``python -m osirix_tasks.supervise RUN_ID --store PATH``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .console import RunStore
from .runner import supervise


def main(argv: list[str] | None = None) -> int:
    """Supervise one recorded run until it ends."""
    parser = argparse.ArgumentParser(prog="python -m osirix_tasks.supervise")
    parser.add_argument("run_id")
    parser.add_argument("--store", required=True)
    options = parser.parse_args(argv)
    store = RunStore(Path(options.store))
    supervise(store, options.run_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
