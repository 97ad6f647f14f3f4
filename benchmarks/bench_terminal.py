"""What removing control sequences costs ``run``/``console`` on the way to the terminal.

Baseline: echoing a run's output as ``run --raw`` does (``click.echo`` to a file that is not a
terminal). Then the same output through the filter first (``run``'s default). Three kinds of output,
1 MB pieces: plain ASCII, accented text, and coloured text (SGR sequences on every line). Prints
megabytes per second of each and the ratio to the baseline measured in the same run.

    python benchmarks/bench_terminal.py [--megabytes 50]
"""

from __future__ import annotations

import argparse
import os
import time

import click

from osirix_tasks.cli._terminal import TerminalFilter

KINDS = {
    "plain ASCII": ("x" * 1023 + "\n") * 1024,
    "accented": ("é" * 511 + "\n") * 1024,
    "coloured": ("\x1b[32mok\x1b[0m " + "y" * 1013 + "\n") * 1024,
}


def throughput(piece: str, megabytes: int, clean: TerminalFilter | None, out: object) -> float:
    started = time.perf_counter()
    for _ in range(megabytes):
        text = clean.clean(1, piece) if clean is not None else piece
        click.echo(text, nl=False, file=out)  # type: ignore[arg-type]
    return megabytes * len(piece.encode()) / 2**20 / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--megabytes", type=int, default=50)
    options = parser.parse_args()
    with open(os.devnull, "w", encoding="utf-8") as out:
        for kind, piece in KINDS.items():
            raw = throughput(piece, options.megabytes, None, out)
            filtered = throughput(piece, options.megabytes, TerminalFilter(), out)
            print(f"{kind:<12} --raw {raw:8.0f} MB/s   filtered {filtered:8.0f} MB/s   ratio {filtered / raw:5.2f}")


if __name__ == "__main__":
    main()
