"""Fetch a stack of DCMPix images with a bounded number of requests in flight.

Every answer is copied into the result array as soon as it arrives and then dropped, so the bytes
in transit (gRPC buffers plus the answers not yet copied) stay at ``in_flight`` planes: a 300-plane
volume never holds 300 answers at once, and the same few buffers are reused from one plane to the
next instead of fresh memory being mapped for each.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import numpy as np

from ..errors import OsirixError
from ..wire.pixel_decode import PixelAnswer

__all__ = ["fetch_volume"]


def fetch_volume(
    get: Any,
    pixes: Sequence[Any],
    check: Callable[[PixelAnswer], PixelAnswer],
    *,
    out: np.ndarray | None = None,
    in_flight: int,
) -> np.ndarray:
    """Stack the images of ``pixes`` fetched with ``get`` (a DCMPixImage multi-callable)."""
    if in_flight < 1:
        raise ValueError(f"in_flight must be at least 1, not {in_flight}")
    count = len(pixes)
    if count == 0:
        return out if out is not None else np.empty((0, 0, 0), np.float32)
    pending: deque[Future[PixelAnswer]] = deque()
    following = iter(pixes)
    for pix in pixes[:in_flight]:
        pending.append(get.future(pix))
        next(following)
    result = out
    try:
        for index in range(count):
            image = check(pending.popleft().result()).image()
            nxt = next(following, None)
            if nxt is not None:
                pending.append(get.future(nxt))
            if result is None:
                result = np.empty((count, *image.shape), image.dtype)
            elif index == 0:
                _check_out(result, count, image)
            if image.shape != result.shape[1:]:
                raise OsirixError(
                    f"plane {index} is {_shape(image)}, unlike plane 0 ({_shape(result[0])}): "
                    "these DCMPix cannot be stacked - fetch them one by one with pixels()",
                    rpc="DCMPixImage",
                )
            result[index] = image
    finally:
        for future in pending:
            future.cancel()
    assert result is not None  # count > 0: set by the first plane
    return result


def _check_out(out: np.ndarray, count: int, image: np.ndarray) -> None:
    expected = (count, *image.shape)
    if out.shape != expected or out.dtype != image.dtype or not out.flags.c_contiguous or not out.flags.writeable:
        raise ValueError(
            f"out: a writeable C-contiguous {image.dtype} array of shape {expected} is needed, "
            f"not {out.dtype} {out.shape} - allocate it with numpy.empty({expected}, numpy.{image.dtype})"
        )


def _shape(image: np.ndarray) -> str:
    return "x".join(str(n) for n in image.shape)
