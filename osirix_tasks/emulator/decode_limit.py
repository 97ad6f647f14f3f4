"""How much memory one pixel decode of the embedded OsiriX may take: a setting.

Decoding one frame holds its values in double precision on the way to OsiriX's floats (8 bytes per
sample), so a frame needs about rows x columns x samples x 8 bytes. The default bound, 1 GiB, lets a
frame of 134 million samples through (an 11,585 x 11,585 greyscale plane; a plane that large is
past what one DCMPixImage answer can carry anyway) and stops a 34 KB file that declares 65535 x 65535
pixels before anything is allocated. ``serve --max-decode-mb`` / ``import --max-decode-mb``, or
``$OSIRIX_TASKS_MAX_DECODE_MB``, change it for a process. A deflated file is inflated as a whole to
decode any of its frames: the whole dataset counts.
"""

from __future__ import annotations

import os

from ..contract import Env

__all__ = [
    "DEFAULT_MAX_DECODE_BYTES",
    "max_decode_bytes",
    "set_max_decode_bytes",
    "frame_decode_bytes",
    "describe_bytes",
]

#: The default bound: 1 GiB.
DEFAULT_MAX_DECODE_BYTES = 1 << 30
_chosen: int | None = None


def max_decode_bytes() -> int:
    """The bound in force: :func:`set_max_decode_bytes`, else ``$OSIRIX_TASKS_MAX_DECODE_MB``, else 1 GiB."""
    if _chosen is not None:
        return _chosen
    text = os.environ.get(Env.MAX_DECODE_MB, "").strip()
    try:
        return int(float(text) * 2**20) if text and float(text) > 0 else DEFAULT_MAX_DECODE_BYTES
    except ValueError:
        return DEFAULT_MAX_DECODE_BYTES


def set_max_decode_bytes(value: int | None) -> None:
    """Set the bound for this process (None: back to the environment or the default)."""
    global _chosen
    _chosen = value


def frame_decode_bytes(rows: int, columns: int, samples: int) -> int:
    """What decoding one frame takes: its samples in double precision."""
    return max(0, rows) * max(0, columns) * max(1, samples) * 8


def describe_bytes(count: float) -> str:
    """``123 MiB`` or ``4.3 GiB`` (``1,234 bytes`` below a MiB), for messages."""
    if count >= 2**30:
        return f"{count / 2**30:.1f} GiB"
    return f"{count / 2**20:.0f} MiB" if count >= 2**20 else f"{count:,.0f} bytes"
