"""How a plane travels to the page: in the smallest exact encoding, with what the page needs to window it."""

from __future__ import annotations

from typing import Any

import numpy as np
from starlette.responses import Response

from .api import raw

__all__ = ["compact", "plane_response"]


def compact(image: np.ndarray) -> tuple[bytes, str, tuple[int, int] | None]:
    """The smallest exact little-endian encoding of a float32 plane, its name, and for whole values
    their range (lowest, highest; the page windows them through a table over it)."""
    if image.size == 0:
        return b"", "float32", None
    low, high = float(image.min()), float(image.max())
    for kind, name in ((np.uint16, "uint16"), (np.int16, "int16")):
        info = np.iinfo(kind)
        if info.min <= low and high <= info.max:
            narrow = image.astype(np.dtype(kind).newbyteorder("<"))
            if np.array_equal(narrow, image):
                return narrow.tobytes(), name, (int(low), int(high))
    return np.ascontiguousarray(image, dtype="<f4").tobytes(), "float32", None


def plane_response(image: np.ndarray) -> Response:
    """A plane (rows x columns of grey values, or x 4 ARGB bytes) as the page's binary answer: shape,
    format and the range of whole values in ``X-`` headers."""
    rows, columns = image.shape[0], image.shape[1]
    if image.ndim == 3:
        return raw(np.ascontiguousarray(image).tobytes(), rows=rows, columns=columns, format="argb8")
    data, kind, extent = compact(image)
    headers: dict[str, Any] = {"rows": rows, "columns": columns, "format": kind}
    if extent is not None:
        headers.update(low=extent[0], high=extent[1])
    return raw(data, **headers)
