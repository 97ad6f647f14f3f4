"""The results table's files: owner-only whatever was there before (a results table names patients),
and readable back by independent readers (csv, json, pyarrow)."""

from __future__ import annotations

import csv
import json
import stat
from pathlib import Path

import pytest

from osirix_tasks.batch.results import write_table

ROWS = [
    {"item": 0, "patient_id": "COHORT-000", "status": "succeeded", "mean": 1.5},
    {"item": 1, "patient_id": "COHORT-001", "status": "failed", "mean": None},
]


def _read(path: Path, fmt: str) -> list[dict[str, object]]:
    if fmt == "csv":
        with path.open(newline="") as stream:
            return list(csv.DictReader(stream))
    if fmt == "json":
        return list(json.loads(path.read_text()))
    import pyarrow.parquet as pq

    return list(pq.read_table(path).to_pylist())


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet"])
def test_a_results_file_is_owner_only_even_over_a_readable_one(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"results.{fmt}"
    path.write_text("x" * 10_000)  # longer than the table: nothing of it may be left
    path.chmod(0o644)
    assert write_table(ROWS, fmt, path) is None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = _read(path, fmt)
    assert [str(r["patient_id"]) for r in rows] == ["COHORT-000", "COHORT-001"]
    assert [str(r["item"]) for r in rows] == ["0", "1"]
