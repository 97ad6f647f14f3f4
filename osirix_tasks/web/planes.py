"""How a plane travels to the page: in the smallest exact encoding, with what the page needs to window it."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from starlette.responses import Response

from .api import raw

__all__ = ["compact", "plane_response", "planes_response", "MAX_PLANES"]

#: The most planes one request may ask for (a prefetch sends a few together: one round trip for them).
MAX_PLANES = 16


def compact(image: np.ndarray) -> tuple[memoryview, str, tuple[int, int] | None]:
    """The smallest exact little-endian encoding of a float32 plane (a view of its bytes: the answer
    sends them without another copy), its name, and for whole values their range (lowest, highest;
    the page windows them through a table over it)."""
    if image.size == 0:
        return memoryview(b""), "float32", None
    low, high = float(image.min()), float(image.max())
    for kind, name in ((np.uint16, "uint16"), (np.int16, "int16")):
        info = np.iinfo(kind)
        if info.min <= low and high <= info.max:
            narrow = image.astype(np.dtype(kind).newbyteorder("<"))
            if np.array_equal(narrow, image):
                return _bytes_of(narrow), name, (int(low), int(high))
    return _bytes_of(np.ascontiguousarray(image, dtype="<f4")), "float32", None


def _bytes_of(array: np.ndarray) -> memoryview:
    """The bytes of a C-contiguous array, not copied."""
    return array.data.cast("B")


def encoded(image: np.ndarray) -> tuple[memoryview, dict[str, Any]]:
    """A plane's bytes and what the page needs to read them: shape, format, range of whole values."""
    rows, columns = image.shape[0], image.shape[1]
    if image.ndim == 3:
        return _bytes_of(np.ascontiguousarray(image)), {"rows": rows, "columns": columns, "format": "argb8"}
    data, kind, extent = compact(image)
    facts: dict[str, Any] = {"rows": rows, "columns": columns, "format": kind}
    if extent is not None:
        facts.update(low=extent[0], high=extent[1])
    return data, facts


def plane_response(image: np.ndarray) -> Response:
    """A plane (rows x columns of grey values, or x 4 ARGB bytes) as the page's binary answer: shape,
    format and the range of whole values in ``X-`` headers."""
    data, facts = encoded(image)
    return raw(data, **facts)


def planes_response(planes: list[tuple[str, np.ndarray | str]]) -> Response:
    """Several planes in one answer, their bytes one after the other; ``X-Planes`` lists them in that
    order as JSON objects: uid, the facts of :func:`encoded` and ``bytes``, or uid and ``error`` (the
    plane could not be read; the others still come)."""
    parts: list[memoryview] = []
    listing: list[dict[str, Any]] = []
    for uid, image in planes:
        if isinstance(image, str):
            listing.append({"uid": uid, "error": image})
            continue
        data, facts = encoded(image)
        parts.append(data)
        listing.append({"uid": uid, **facts, "bytes": data.nbytes})
    return raw(b"".join(parts), planes=json.dumps(listing, separators=(",", ":")))
