"""Batch throughput: 200 series through a task that spends ~50 ms of CPU per item, on the local cluster.

Measured in the same run: a plain sequential loop with our client (find the series, spend the CPU),
which gives the item time; the ideal is cores / item time; the batch's items/s is compared with both.
Overhead per item = cores x batch time per item - item time. The driver's memory (RSS) is printed at
the start, the middle and the end of the 200 items.

On a shared machine the wall-clock figures depend on what else runs; the CPU figures do not: the CPU
seconds of every process involved (this driver and its cluster, the workers' task processes, the
OsiriX host) per item, against those of the loop (this process and the host), give the overhead per
item in CPU ms and the share of the ideal a machine of our own would reach.

    .venv/bin/python benchmarks/bench_batch.py [--series 200] [--cpu-ms 50]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

TASK = '''
import time

from osirix_tasks import osirix_task


def spend(seconds):
    end = time.process_time() + seconds
    n = 0
    while time.process_time() < end:
        n += 1
    return n


@osirix_task(type="Database", name="Spend CPU")
def spend_cpu(context):
    """~CPU_MS ms of CPU on the target series."""
    spend(CPU_MS / 1000)
    return {"series": len(context.series)}
'''


def _rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def _cpu_parts(host_pid: int) -> dict[str, float]:
    """CPU seconds used so far: this process (the driver and the local scheduler), the Dask worker
    processes, the item processes they keep, and the host."""
    import psutil

    me = psutil.Process()
    parts = {"driver": 0.0, "workers": 0.0, "items": 0.0, "host": 0.0}
    for process in [me, *me.children(recursive=True), psutil.Process(host_pid)]:
        try:
            times = process.cpu_times()
            line = " ".join(process.cmdline())
        except psutil.Error:
            continue
        part = (
            "host"
            if process.pid == host_pid
            else "driver"
            if process.pid == me.pid
            else ("items" if "item_child" in line else "workers")
        )
        parts[part] += times.user + times.system
    return parts


def _cpu_seconds(host_pid: int) -> float:
    """CPU seconds used so far by this process, its live descendants and the host."""
    return sum(_cpu_parts(host_pid).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--cpu-ms", type=float, default=50.0)
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    from osirix_tasks.testing.environment import isolated_env

    os.environ.update(isolated_env(work / "home"))
    from osirix_tasks.batch.cluster import local_workers
    from osirix_tasks.testing import running_host
    from osirix_tasks.testing.cohort import write_cohort

    per_study = 4
    write_cohort(work / "cohort", studies=options.series // per_study, series_per_study=per_study, slices=1, size=16)
    (work / "bench_tasks.py").write_text(TASK.replace("CPU_MS", repr(options.cpu_ms)))
    (work / "tasks.toml").write_text('[settings]\nmodules = ["bench_tasks"]\n')
    sys.path.insert(0, str(work))
    with running_host(work / "home", "--empty", "--import", str(work / "cohort"), "--no-web") as host:
        _measure(host.address, work / "tasks.toml", options, local_workers(), host.process.pid)


def _sequential(address: str, targets: list, cpu_ms: float, host_pid: int) -> tuple[float, float]:
    """Seconds and CPU seconds per item of a plain loop with our client: find the series, spend the CPU."""
    import bench_tasks  # type: ignore[import-not-found]

    from osirix_tasks.client import Connection
    from osirix_tasks.client.targets import find_series

    started, cpu = time.perf_counter(), _cpu_seconds(host_pid)
    with Connection(address) as connection:
        for target, _ in targets:
            find_series(connection, target.series, target.study)
            bench_tasks.spend(cpu_ms / 1000)
    return (time.perf_counter() - started) / len(targets), (_cpu_seconds(host_pid) - cpu) / len(targets)


def _measure(address: str, registry: Path, options: argparse.Namespace, cores: int, host_pid: int) -> None:
    from osirix_tasks.batch.plan import BatchOptions
    from osirix_tasks.batch.records import BatchRecords
    from osirix_tasks.batch.selection import SelectionRequest
    from osirix_tasks.batch.service import BatchRequest, create_batch, prepare_batch, run_batch
    from osirix_tasks.catalog import build_catalog
    from osirix_tasks.registry import load_registry
    from osirix_tasks.run.store import RunStore

    catalog = build_catalog(load_registry(registry))
    request = BatchRequest("Spend CPU", None, SelectionRequest([], where="images>=1"), BatchOptions(), address)
    _, targets = prepare_batch(catalog, request)
    item_time, item_cpu = _sequential(address, targets, options.cpu_ms, host_pid)
    records = BatchRecords(RunStore.default())
    batch_id = create_batch(records, catalog, request)
    marks: dict[str, float] = {}
    rss: list[tuple[str, float]] = [("start", _rss_mb())]
    total = len(targets)
    parts_first: dict[str, float] = {}
    parts_last: dict[str, float] = {}

    def progress(done: int, count: int, outcome: object) -> None:
        if done == 1:
            marks["first"] = time.perf_counter()
            marks["cpu_first"] = _cpu_seconds(host_pid)
            parts_first.update(_cpu_parts(host_pid))
        if done == count // 2:
            rss.append(("middle", _rss_mb()))
        if done == count:
            marks["last"] = time.perf_counter()
            marks["cpu_last"] = _cpu_seconds(host_pid)
            parts_last.update(_cpu_parts(host_pid))
            rss.append(("end", _rss_mb()))

    started = time.perf_counter()
    status = run_batch(records, catalog, batch_id, progress)
    wall = time.perf_counter() - started
    steady = (marks["last"] - marks["first"]) / (total - 1)
    rate, ideal = 1 / steady, cores / item_time
    print(f"items: {total} ({status}), cores: {cores}, item time (sequential loop): {item_time * 1000:.1f} ms")
    print(f"sequential loop:  {1 / item_time:6.1f} items/s")
    print(
        f"batch (steady):   {rate:6.1f} items/s = {rate * item_time:.2f}x the loop, {rate / ideal:.0%} of the ideal "
        f"({ideal:.1f} items/s = cores / item time)"
    )
    print(f"overhead per item: {(cores * steady - item_time) * 1000:.1f} ms (wall clock x cores)")
    batch_cpu = (marks["cpu_last"] - marks["cpu_first"]) / (total - 1)
    print(
        f"CPU per item: loop {item_cpu * 1000:.1f} ms, batch {batch_cpu * 1000:.1f} ms -> overhead "
        f"{(batch_cpu - item_cpu) * 1000:.1f} ms per item, {item_cpu / batch_cpu:.0%} of the ideal on a machine of "
        "our own"
    )
    shares = ", ".join(f"{k} {(parts_last[k] - parts_first[k]) / (total - 1) * 1000:.1f}" for k in parts_last)
    print(f"CPU ms per item by process: {shares}")
    print(f"whole batch with the cluster's start-up: {wall:.1f} s")
    print("driver RSS: " + ", ".join(f"{label} {mb:.0f} MB" for label, mb in rss))


if __name__ == "__main__":
    main()
