"""The database view's series icons: the middle image of a series, windowed to 8 bits and shrunk.

Read from the image's file (``DicomImageCompletePath``), as OsiriX's browser makes its icons, and
kept per (series, file). (Moved here unchanged from the page's former OsiriX reader; the icons are
to come from the viewer's own pixels instead.)
"""

from __future__ import annotations

import threading

import numpy as np
from osirixgrpc import types_pb2

from ..client import Connection
from ..errors import OsirixError

__all__ = ["series_thumbnail"]

_kept: dict[tuple[str, str], tuple[int, int, bytes]] = {}
_lock = threading.Lock()


def series_thumbnail(connection: Connection, series_uid: str, size: int = 64) -> tuple[int, int, bytes]:
    """Rows, columns and 8-bit pixels of a series' icon, at most ``size`` pixels a side."""
    series = types_pb2.DicomSeries(osirixrpc_uid=series_uid)
    images = list(connection.call("DicomSeriesSortedImages", series).sorted_images)
    if not images:
        raise OsirixError("the series has no images", rpc="DicomSeriesSortedImages")
    path = connection.call("DicomImageCompletePath", images[len(images) // 2]).complete_path
    key = (series_uid, path)
    with _lock:
        if key in _kept:
            return _kept[key]
    made = _thumbnail_of(path, size)
    with _lock:
        _kept[key] = made
    return made


def _thumbnail_of(path: str, size: int) -> tuple[int, int, bytes]:
    import pydicom

    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array
    if int(ds.get("NumberOfFrames") or 1) > 1:
        pixels = pixels[0]
    if pixels.ndim == 3:
        pixels = pixels[..., :3].mean(axis=2)
    values = pixels.astype(np.float32) * float(ds.get("RescaleSlope", 1) or 1) + float(
        ds.get("RescaleIntercept", 0) or 0
    )
    step = max(1, int(np.ceil(max(values.shape) / size)))
    small = values[::step, ::step]
    low, high = float(np.percentile(small, 1)), float(np.percentile(small, 99.5))
    scaled = np.clip((small - low) / max(high - low, 1e-6) * 255.0, 0, 255).astype(np.uint8)
    return int(scaled.shape[0]), int(scaled.shape[1]), scaled.tobytes()
