"""Load + validate a tasks.toml of 10,000 tasks.

Prints the time and tasks/s of ``load_registry`` and, as a baseline measured in the same run,
the time of parsing the same file with the standard library's tomllib alone (no validation).
Goal (issue 2): load + validate under 0.3 s on the CI machine.

    python benchmarks/bench_registry.py [--tasks 10000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from osirix_tasks.registry import load_registry


def make_registry(folder: Path, count: int) -> Path:
    scripts = []
    for n in range(50):
        script = folder / f"script_{n}.py"
        script.write_text("print('hi')\n")
        scripts.append(script)
    kinds = ["Database", "Image", "ROI", "VRController"]
    lines = []
    for i in range(count):
        lines.append(
            f'[[task]]\nname = "task {i}"\ntype = "{kinds[i % 4]}"\n'
            f'location = "{scripts[i % 50]}"\nblocking = {str(i % 7 == 0).lower()}\n'
            f'description = "benchmark task number {i}"\nargs = ["--n", "{i}"]\n'
        )
    path = folder / "tasks.toml"
    path.write_text("\n".join(lines))
    return path


def best_of(repeat: int, func) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = make_registry(Path(tmp), options.tasks)
        registry = load_registry(path, strict=True)
        assert len(registry.tasks) == options.tasks
        ours_best, ours_median = best_of(options.repeat, lambda: load_registry(path, strict=True))
        base_best, _ = best_of(options.repeat, lambda: tomllib.loads(path.read_text()))
    print(f"python {sys.version.split()[0]}, {options.tasks} tasks, best of {options.repeat}")
    print(
        f"load + validate (osirix-tasks): {ours_best:.3f} s best, {ours_median:.3f} s median, "
        f"{options.tasks / ours_best:,.0f} tasks/s"
    )
    print(f"baseline tomllib parse only:     {base_best:.3f} s")
    print(f"ratio load+validate / tomllib parse: {ours_best / base_best:.2f}x")
    print(f"goal < 0.3 s: {'met' if ours_best < 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
