"""What a header declares, checked against the bytes the file really has, before anything is allocated.

A 34 KB file can declare 2,147,483,647 frames (the index would get a row per frame) or 65535 x 65535
pixels (a decode would allocate 34 GB), and a 1.5 MB deflated file can inflate to 1.5 GB. A file is
refused - skipped at import, named with the reason - when:

* one of its frames would take more to decode than one decode may allocate
  (:mod:`~osirix_tasks.emulator.decode_limit`);
* it is native (uncompressed) and declares more pixel data than it holds, by more than one frame (a
  file that lost part of its last frame is kept: that plane shows blank, named);
* it is encapsulated (compressed) and declares more frames than its pixel data could hold (every
  frame takes at least one 8-byte item);
* it is deflated and its pixel data, inflated as a whole to decode any frame, would take more than
  one decode may allocate, or more than deflate can make of the file's bytes (1032 to 1).
"""

from __future__ import annotations

import math
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import DeflatedExplicitVRLittleEndian

from ...contract import Env
from ...errors import DeclaredTooLarge
from ..decode_limit import describe_bytes, frame_decode_bytes, max_decode_bytes
from .dicomread import transfer_syntax_of

__all__ = ["DeclaredTooLarge", "check_declared_size", "MAX_DEFLATE_RATIO"]

#: The most deflate can expand a stream by.
MAX_DEFLATE_RATIO = 1032
#: The smallest item an encapsulated frame takes (its item tag and length).
_ITEM_BYTES = 8


def _number(ds: Dataset, keyword: str, default: int) -> int:
    try:
        value = ds.get(keyword)
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _frame_bytes(ds: Dataset, rows: int, columns: int, samples: int) -> int:
    bits = _number(ds, "BitsAllocated", 8)
    size = rows * columns * samples * bits / 8
    photometric = str(ds.get("PhotometricInterpretation", "")).upper()
    if photometric.startswith("YBR") and "422" in photometric:
        size = size * 2 / 3
    return math.ceil(size)


def _check_decode(rows: int, columns: int, samples: int) -> None:
    needed, limit = frame_decode_bytes(rows, columns, samples), max_decode_bytes()
    if needed > limit:
        raise DeclaredTooLarge(
            f"one frame of {columns} x {rows} pixels x {samples} sample(s) takes {describe_bytes(needed)} to decode, "
            f"more than the {describe_bytes(limit)} one decode may allocate (--max-decode-mb or ${Env.MAX_DECODE_MB})"
        )


def _available(ds: Dataset, path: Path, frames: int) -> int | None:
    """The pixel bytes a native or deflated file can deliver (None when not known: checked already)."""
    declared, present = ds.get("osirix_pixel_length"), ds.get("osirix_pixel_bytes")
    if transfer_syntax_of(ds) == DeflatedExplicitVRLittleEndian:
        if declared is None:
            return None
        limit = max_decode_bytes()
        if declared > limit:
            raise DeclaredTooLarge(
                f"deflated: its {describe_bytes(declared)} of pixel data are inflated as a whole to decode a frame, "
                f"more than the {describe_bytes(limit)} one decode may allocate"
            )
        if declared > MAX_DEFLATE_RATIO * path.stat().st_size:
            raise DeclaredTooLarge(
                f"deflated: declares {describe_bytes(declared)} of pixel data, more than deflate can make of "
                f"{describe_bytes(path.stat().st_size)}"
            )
        return int(declared)
    if declared is None:  # encapsulated: at least one item per frame
        room = int(present or 0) // _ITEM_BYTES
        if frames > room:
            raise DeclaredTooLarge(
                f"declares {frames:,} frames; its {describe_bytes(present or 0)} of encapsulated pixel data "
                f"hold {room:,} at most"
            )
        return None
    return min(int(declared), int(present if present is not None else declared))


def check_declared_size(ds: Dataset, path: Path) -> None:
    """Raise DeclaredTooLarge (naming what is declared and what is there) for a file to refuse."""
    rows, columns = _number(ds, "Rows", 0), _number(ds, "Columns", 0)
    samples = max(1, _number(ds, "SamplesPerPixel", 1))
    frames = max(1, _number(ds, "NumberOfFrames", 1))
    _check_decode(rows, columns, samples)
    if not ds.get("osirix_has_pixels"):
        return
    available = _available(ds, path, frames)
    if available is None:
        return
    frame = _frame_bytes(ds, rows, columns, samples)
    needed = frames * frame
    if needed > available + frame:
        raise DeclaredTooLarge(
            f"declares {frames:,} frame(s) of {columns} x {rows} pixels ({describe_bytes(needed)} of pixel data) "
            f"but holds {describe_bytes(available)}"
        )
