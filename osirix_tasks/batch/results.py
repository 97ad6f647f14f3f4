"""The results table of a batch: one row per item, the target's identifiers then the item's record.

A row is ``item``, the identifiers (patient, study, series ...), ``status``, ``attempts``,
``duration``, ``run_id``, then the fields of the item's record (a decorated task's returned mapping,
or a script's last stdout line as a JSON object), in order of first appearance. Written as CSV, JSON
(a list of objects) or Parquet (pyarrow).
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any

from .._support.private import open_private
from ..errors import BatchError
from .records import BatchRecords

__all__ = ["result_rows", "write_table", "FORMATS"]

FORMATS = ("csv", "json", "parquet")
_FIXED = ("item",)
_STATE = ("status", "attempts", "duration", "run_id")


def result_rows(records: BatchRecords, batch_id: str) -> list[dict[str, Any]]:
    """One row per item, in the batch's order."""
    rows = []
    for item in records.items(batch_id):
        row: dict[str, Any] = {"item": item.index, **item.ids}
        row.update(status=item.status, attempts=item.attempts, duration=item.duration, run_id=item.run_id)
        for key, value in (item.result or {}).items():
            row[key if key not in row else f"result_{key}"] = value
        rows.append(row)
    return rows


def _columns(rows: list[dict[str, Any]]) -> list[str]:
    return list(dict.fromkeys(key for row in rows for key in row))


def write_table(rows: list[dict[str, Any]], fmt: str, path: Path | None) -> str | None:
    """Write the rows as ``fmt`` to ``path`` (Parquet needs a path); returns the text when ``path`` is None."""
    if fmt not in FORMATS:
        raise BatchError(f"unknown results format {fmt!r} - use one of {', '.join(FORMATS)}")
    columns = _columns(rows)
    if fmt == "parquet":
        if path is None:
            raise BatchError("Parquet is binary - give a file with --output FILE")
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows])
        with os.fdopen(open_private(path), "wb") as stream:  # owner-only: a results table names patients
            pq.write_table(table, stream)
        return None
    if fmt == "json":
        text = json.dumps(rows, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    if path is None:
        return text
    with os.fdopen(open_private(path), "w", encoding="utf-8") as stream:  # owner-only: it names patients
        stream.write(text)
    return None
