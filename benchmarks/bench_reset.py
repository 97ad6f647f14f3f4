"""The kit's reset (what the ``osirix`` fixture does before each test) versus a fresh host start.

1. Reset: one embedded OsiriX on the demo series; each round dirties it as a test would (a 2D
   viewer, an ROI drawn and selected, a 3D window, another browser selection), then
   ``OsirixSession.reset()`` is timed (control-channel round trip included). Also timed on a host
   that is already clean.
2. Fresh host start, the alternative for per-test isolation: ``osirix-tasks serve`` started until
   it serves, (a) in a new home (empty database: demo generated and imported, what a per-test host
   costs), (b) again on a database already imported; each then stopped (stop timed apart).

    python benchmarks/bench_reset.py [--resets 200] [--starts 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from osirix_tasks.testing import osirix_session, running_host


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(values) * 1000:8.2f} ms   p95 {p95 * 1000:8.2f} ms   (n={len(values)})"


def resets(root: Path, rounds: int) -> float:
    with osirix_session(root / "session-home") as osirix:
        series_uid = osirix.series()[0].series_instance_uid
        dirty, clean = [], []
        for _ in range(rounds):
            viewer = osirix.open_viewer()
            osirix.draw_roi("oval", select=True, viewer=viewer)
            osirix.open_3d("VR", viewer)
            osirix.select(series=[series_uid])
            started = time.perf_counter()
            osirix.reset()
            dirty.append(time.perf_counter() - started)
            started = time.perf_counter()
            osirix.reset()
            clean.append(time.perf_counter() - started)
    print("1. reset (OsirixSession.reset over the control channel):")
    print(f"   after viewer + ROI + 3D window + selection:  {summary(dirty)}")
    print(f"   on a clean host:                             {summary(clean)}")
    return statistics.median(dirty)


def starts(root: Path, rounds: int) -> tuple[float, float]:
    new_home, same_db, stops = [], [], []
    for index in range(rounds):
        home = root / f"home-{index}"
        for args, bucket in ((("--empty", "--demo"), new_home), (("--demo",), same_db)):
            started = time.perf_counter()
            with running_host(home, *args):
                bucket.append(time.perf_counter() - started)
                stopping = time.perf_counter()
            stops.append(time.perf_counter() - stopping)
    print("2. fresh host start (osirix-tasks serve until it serves):")
    print(f"   new home, demo series generated + imported:  {summary(new_home)}")
    print(f"   database already imported:                   {summary(same_db)}")
    print(f"   (stop afterwards, not counted above:         {summary(stops)})")
    return statistics.median(new_home), statistics.median(same_db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resets", type=int, default=200)
    parser.add_argument("--starts", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-reset-") as folder:
        root = Path(folder)
        reset = resets(root, options.resets)
        fresh, warm = starts(root, options.starts)
    print(f"reset is {fresh / reset:,.0f}x faster than a start in a new home, {warm / reset:,.0f}x than a warm start")


if __name__ == "__main__":
    main()
