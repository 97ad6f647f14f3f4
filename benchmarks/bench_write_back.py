"""What writing a remote item's results back costs: shipped-pixels batches in the same run, each on its
own third of the cohort.

Baseline: a task declared ``pixels=True`` thresholds its shipped volume and returns a count. Measured:
the same task also saving the mask as a SEG (``context.save_segmentation``) and adding one ROI, which
the driver writes through the host when each item returns (build the SEG with highdicom, hand it to
OsiriX, draw the label as brush ROIs, keep the ROIs with the series). Both batches ship the pixels
(``--ship-pixels``: the remote path) to the same local cluster; the difference per item is the cost
of the write-back, printed in ms and as a ratio of the baseline's time per item. The write-backs run
on one thread, then on :data:`~osirix_tasks.batch.write_back.WRITE_THREADS` (the driver's setting).

    .venv/bin/python benchmarks/bench_write_back.py [--series 36] [--slices 8] [--size 64] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TASK = """
from osirix_tasks import osirix_task


@osirix_task(type="Image", name="Count bright", pixels=True)
def count_bright(context):
    labels = context.volume >= float(context.volume.min()) + 200
    return {"bright": int(labels.sum())}


@osirix_task(type="Image", name="Save bright", pixels=True)
def save_bright(context):
    labels = context.volume >= float(context.volume.min()) + 200
    saved = context.save_segmentation(labels, ["Bright"], series_description="Bench write-back")
    context.add_roi("rectangle", name="Corner", box=(1, 1, 4, 4), slice=0)
    return {"bright": int(labels.sum()), "seg": saved.sop_instance_uid}
"""


def _batch(address: str, registry: Path, name: str, uids: list[str], workers: int) -> tuple[float, float, str]:
    """Steady seconds per item (first to last item ended), the whole batch's seconds, and its status."""
    from osirix_tasks.batch.plan import BatchOptions
    from osirix_tasks.batch.records import BatchRecords
    from osirix_tasks.batch.selection import SelectionRequest
    from osirix_tasks.batch.service import BatchRequest, create_batch, run_batch
    from osirix_tasks.catalog import build_catalog
    from osirix_tasks.registry import load_registry
    from osirix_tasks.run.store import RunStore

    catalog = build_catalog(load_registry(registry))
    options = BatchOptions(workers=workers, ship_pixels=True)
    request = BatchRequest(name, None, SelectionRequest(uids), options, address)
    records = BatchRecords(RunStore.default())
    batch_id = create_batch(records, catalog, request)
    marks: dict[str, float] = {}

    def progress(done: int, count: int, outcome: object) -> None:
        if done == 1:
            marks["first"] = time.perf_counter()
        if done == count:
            marks["last"] = time.perf_counter()

    started = time.perf_counter()
    status = run_batch(records, catalog, batch_id, progress)
    wall = time.perf_counter() - started
    return (marks["last"] - marks["first"]) / (len(uids) - 1), wall, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=36)
    parser.add_argument("--slices", type=int, default=8)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-write-back-"))
    from osirix_tasks.testing.environment import isolated_env

    os.environ.update(isolated_env(work / "home"))
    from osirix_tasks.testing import running_host
    from osirix_tasks.testing.cohort import write_cohort

    per_study = 4
    written = write_cohort(
        work / "cohort", studies=options.series // per_study, series_per_study=per_study, slices=options.slices,
        size=options.size,
    )  # fmt: skip
    (work / "bench_tasks.py").write_text(TASK)
    (work / "tasks.toml").write_text('[settings]\nmodules = ["bench_tasks"]\n')
    sys.path.insert(0, str(work))
    from osirix_tasks.batch import write_back

    thirds = [[s.series_uid for s in written[k::3]] for k in range(3)]
    registry, threads = work / "tasks.toml", write_back.WRITE_THREADS
    with running_host(work / "home", "--empty", "--import", str(work / "cohort"), "--no-web") as host:
        runs = []
        for label, name, uids, count in [
            ("baseline (threshold, no write-back)", "Count bright", thirds[0], threads),
            ("SEG + ROI written back, 1 thread", "Save bright", thirds[1], 1),
            (f"SEG + ROI written back, {threads} threads", "Save bright", thirds[2], threads),
        ]:
            write_back.WRITE_THREADS = count
            runs.append((label, *_batch(host.address, registry, name, uids, options.workers)))
    base = runs[0][1]
    shape = f"{options.slices} x {options.size} x {options.size}"
    print(f"{len(thirds[0])} series of {shape} per batch, {options.workers} local workers, pixels shipped")
    for label, per_item, wall, status in runs:
        extra = f", write-back {(per_item - base) * 1000:.1f} ms per item" if per_item is not base else ""
        print(
            f"{label:<40} {per_item * 1000:7.1f} ms per item = {per_item / base:5.2f}x ({status}, {wall:.1f} s){extra}"
        )


if __name__ == "__main__":
    main()
