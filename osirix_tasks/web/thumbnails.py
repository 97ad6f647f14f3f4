"""Series thumbnails made from the pixels the viewer shows.

The OsiriX the page shows names the file of a series' middle image over its protocol
(:func:`~osirix_tasks.client.db_listing.middle_image_path`; a real OsiriX's as well as the embedded
one's: the protocol has no pixels for an image outside a viewer), as OsiriX's browser makes its
icons from the file. The file is read the way the embedded OsiriX reads it for a viewer: its header
as the importer indexes it (files without a preamble or file meta too), its plane through the same
DCMPix decoding (modality LUT or rescale, MONOCHROME1 negated with its window, palette colour
through its LUTs, YBR to RGB), windowed with the viewer's default WL/WW (the file's window, else the
full range) as the page windows a plane. So the page has one DICOM decoder, the emulator's; the
pictures are kept (at most ``_KEPT``) until their file changes.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from ..client import Connection
from ..client.db_listing import middle_image_path
from ..errors import OsirixTasksError

__all__ = ["series_thumbnail", "thumbnail_of", "THUMBNAIL_SIZE"]

#: Pixels at most along a thumbnail's longer side.
THUMBNAIL_SIZE = 64
_KEPT = 512
_cache: OrderedDict[tuple[str, int, int, int], tuple[int, int, bytes] | str] = OrderedDict()
_lock = threading.Lock()


def series_thumbnail(connection: Connection, series_uid: str, size: int = THUMBNAIL_SIZE) -> tuple[int, int, bytes]:
    """Rows, columns and RGBA bytes of a series' icon (by ``osirixrpc_uid``), at most ``size`` pixels a side."""
    return thumbnail_of(middle_image_path(connection, series_uid), size)


def thumbnail_of(path: str, size: int = THUMBNAIL_SIZE) -> tuple[int, int, bytes]:
    """Rows, columns and RGBA bytes of the first frame of ``path`` shrunk to at most ``size`` a side.

    OsirixTasksError naming the file when it cannot be shown (remembered, as the picture is, until
    the file changes).
    """
    try:
        status = os.stat(path)
    except OSError as exc:
        raise OsirixTasksError(f"{path}: cannot read the image file ({exc.strerror})") from None
    key = (path, status.st_mtime_ns, status.st_size, size)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
    if found is None:
        try:
            found = _make(path, size)
        except OsirixTasksError as exc:
            found = str(exc)
        with _lock:
            _cache[key] = found
            while len(_cache) > _KEPT:
                _cache.popitem(last=False)
    if isinstance(found, str):
        raise OsirixTasksError(found)
    return found


def _make(path: str, size: int) -> tuple[int, int, bytes]:
    from ..emulator.database.importer import read_header
    from ..emulator.database.index import ImageRow
    from ..emulator.pixels import load_pix
    from ..emulator.workspace import default_window

    try:
        header = read_header(Path(path))
    except Exception as exc:  # not DICOM, no image, malformed: pydicom raises many kinds
        raise OsirixTasksError(f"{path}: not an image OsiriX can show ({type(exc).__name__}: {exc})") from None
    images = header.get("images") or []
    if not images or not images[0]["rows"]:
        raise OsirixTasksError(f"{path}: not an image OsiriX can show")
    pix = load_pix(ImageRow(id=0, series_id=0, path=path, **images[0]), None)
    values = pix.data
    error = getattr(pix, "error", None)  # a plane that could not be decoded (blank), and why
    if error:
        raise OsirixTasksError(str(error))
    step = max(1, int(np.ceil(max(values.shape[:2]) / size)))
    small = values[::step, ::step]
    rgba = np.empty((*small.shape[:2], 4), dtype=np.uint8)
    rgba[..., 3] = 255
    if small.ndim == 3:  # ARGB
        rgba[..., :3] = small[..., 1:4]
    else:
        level, width = default_window(pix)
        low, scale = level - width / 2, 255.0 / max(width, 1e-6)
        grey = np.nan_to_num((small.astype(np.float64) - low) * scale, nan=0.0)
        rgba[..., :3] = np.clip(grey, 0, 255).astype(np.uint8)[..., None]
    return int(rgba.shape[0]), int(rgba.shape[1]), rgba.tobytes()
