"""DCMPix pixels: decoded lazily, one plane at a time, with the values OsiriX shows.

A viewer gets one DCMPix per plane at once (geometry from the database row), but a plane's pixels
are decoded only when something reads them: opening a 300-slice compressed series decodes
nothing, fetching one plane decodes that plane. For a multi-frame file only the frame asked for is
read: pydicom reads that frame's fragments of encapsulated data, or that frame's bytes of native
data.

Values (Horos ``DCMPix.m``, the frame loading code):

* greyscale: float32 of the modality LUT (ModalityLUTSequence) or of stored x RescaleSlope +
  RescaleIntercept, the frame's own where the functional groups give them (slope 0 counts as 1);
  RT dose values are multiplied by DoseGridScaling (our addition: Horos shows raw dose integers);
  MONOCHROME1 planes are negated (except PET) and the window centre from the tags with them, so
  the display keeps white as high values as OsiriX does;
* colour: ARGB bytes, alpha 255; palette colour through its LUTs, YBR converted to RGB, more than
  8 bits stored scaled to 0-255 by dropping the low bits (OsiriX keeps 8 bits per channel).

A plane that cannot be decoded (truncated, corrupt, unsupported) is blank (zeros) and flagged:
``pix.error`` names the file, the frame and why, and the host logs it as a warning. A plane whose
decode would take more than one decode may allocate (:mod:`.decode_limit`; a file indexed before
that bound, or by another version) is neither decoded nor blanked: reading it answers status 0
naming the file. A deflated file is inflated within that bound.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from ..errors import NotAnImageObject, PlaneTooLarge
from .database.dicomread import read_deflated, read_dicom_header
from .database.frames import pix_slice_location
from .database.index import ImageRow
from .decode_limit import describe_bytes, frame_decode_bytes, max_decode_bytes
from .pix import Pix

__all__ = ["load_pix", "decode_plane", "osirix_values", "NotAnImageObject", "PlaneSpec", "PlaneTooLarge"]

log = logging.getLogger(__name__)
_DEFLATED = "1.2.840.10008.1.2.1.99"


@dataclass(frozen=True)
class PlaneSpec:
    """What is known of a plane before decoding it (from its database row)."""

    path: str
    frame: int
    frames: int
    rows: int
    columns: int
    rgb: bool
    transfer_syntax: str
    sop_instance_uid: str = ""


# --- headers, cached per file ------------------------------------------------------------------

_HEADERS: OrderedDict[tuple[str, int, int], Dataset] = OrderedDict()
_HEADERS_LOCK = threading.Lock()
_HEADERS_KEPT = 16


def _header(path: str) -> Dataset:
    """The file's header (no pixel data), shared by the frames of a multi-frame file."""
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    with _HEADERS_LOCK:
        found = _HEADERS.get(key)
        if found is not None:
            _HEADERS.move_to_end(key)
            return found
    ds = read_dicom_header(Path(path))
    with _HEADERS_LOCK:
        _HEADERS[key] = ds
        while len(_HEADERS) > _HEADERS_KEPT:
            _HEADERS.popitem(last=False)
    return ds


# --- decoding ---------------------------------------------------------------------------------


def decode_plane(spec: PlaneSpec) -> np.ndarray:
    """The decoded stored values of one frame (RGB for colour data except palette colour)."""
    from pydicom.pixels import pixel_array

    index = spec.frame if spec.frames > 1 else None
    if spec.transfer_syntax != _DEFLATED:  # a deflated dataset is inflated as a whole: no reading one frame
        try:
            return np.asarray(pixel_array(spec.path, index=index, transfer_syntax_uid=spec.transfer_syntax))
        except Exception as exc:
            first: Exception | None = exc
    else:
        first = None
    try:  # the whole dataset, as tolerant as pydicom reads it (mis-declared VR, malformed frame count ...)
        return _decode_whole(spec, index)
    except Exception:
        if first is not None:
            raise first from None
        raise


def _decode_whole(spec: PlaneSpec, index: int | None) -> np.ndarray:
    import pydicom
    from pydicom.pixels import pixel_array

    if spec.transfer_syntax == _DEFLATED:
        ds = read_deflated(Path(spec.path), max_decode_bytes())
    else:
        ds = pydicom.dcmread(spec.path, force=True)
    try:
        int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError):
        ds.NumberOfFrames = spec.frames
    if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
        from pydicom.dataset import FileMetaDataset

        ds.file_meta = getattr(ds, "file_meta", None) or FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = spec.transfer_syntax
    return np.asarray(pixel_array(ds, index=index))


def _first(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def osirix_values(stored: np.ndarray, ds: Dataset, extra: dict[str, Any]) -> np.ndarray:
    """Stored values of a frame -> what OsiriX keeps: float32 (rows, columns) or ARGB uint8 (rows, columns, 4).

    ``extra`` holds the frame's own RescaleSlope/Intercept (from the functional groups).
    """
    from pydicom.pixels.processing import apply_color_lut

    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(stored, ds)
        if rgb.dtype.itemsize > 1:
            rgb = rgb >> (8 * (rgb.dtype.itemsize - 1))
        return _argb(rgb)
    if stored.ndim == 3:
        bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 8)
        rgb = stored >> (bits - 8) if bits > 8 and stored.dtype.itemsize > 1 else stored
        return _argb(rgb)
    values = _modality_values(stored, ds, extra)
    if photometric == "MONOCHROME1" and str(ds.get("Modality", "")).upper() != "PT":
        values = -values
    return np.ascontiguousarray(values, dtype=np.float32)


def _modality_values(stored: np.ndarray, ds: Dataset, extra: dict[str, Any]) -> np.ndarray:
    """Greyscale stored values through the modality LUT or rescale (and an RT dose's grid scaling)."""
    from pydicom.pixels.processing import apply_modality_lut

    if ds.get("ModalityLUTSequence"):
        values = np.asarray(apply_modality_lut(stored, ds), dtype=np.float64)
    else:
        slope = _first(extra.get("RescaleSlope")) or 1.0
        intercept = _first(extra.get("RescaleIntercept")) or 0.0
        values = stored.astype(np.float64)
        if slope != 1.0 or intercept != 0.0:
            values = values * slope + intercept
    if str(ds.get("Modality", "")).upper() == "RTDOSE" and _first(ds.get("DoseGridScaling")):
        values = values * float(ds.DoseGridScaling)
    return values


def _argb(rgb: np.ndarray) -> np.ndarray:
    argb = np.empty((*rgb.shape[:2], 4), dtype=np.uint8)
    argb[..., 0] = 255
    argb[..., 1:4] = np.clip(rgb[..., :3], 0, 255)
    return argb


def _blank(spec: PlaneSpec) -> np.ndarray:
    if spec.rgb:
        blank = np.zeros((spec.rows, spec.columns, 4), dtype=np.uint8)
        blank[..., 0] = 255
        return blank
    return np.zeros((spec.rows, spec.columns), dtype=np.float32)


def check_plane_size(spec: PlaneSpec) -> None:
    """PlaneTooLarge (status 0) for a plane too large to decode, before anything is allocated."""
    needed, limit = frame_decode_bytes(spec.rows, spec.columns, 3 if spec.rgb else 1), max_decode_bytes()
    if needed > limit:
        raise PlaneTooLarge(
            f"{spec.path} (frame {spec.frame + 1} of {spec.frames}): a {spec.columns} x {spec.rows} plane takes "
            f"{describe_bytes(needed)} to decode, more than the {describe_bytes(limit)} one decode may allocate "
            "- raise --max-decode-mb if this host has the memory"
        )


def read_plane(spec: PlaneSpec, extra: dict[str, Any]) -> tuple[np.ndarray, str | None]:
    """The plane's OsiriX values, or a blank plane and the error naming the file and frame; PlaneTooLarge
    (nothing allocated) for a plane too large to decode."""
    check_plane_size(spec)
    try:
        values = osirix_values(decode_plane(spec), _header(spec.path), extra)
        if values.shape[:2] != (spec.rows, spec.columns):
            raise ValueError(f"decoded {values.shape[1]}x{values.shape[0]}, the header says {spec.columns}x{spec.rows}")
        return values, None
    except Exception as exc:
        error = (
            f"{spec.path} (SOPInstanceUID {spec.sop_instance_uid}, frame {spec.frame + 1} of {spec.frames}): "
            "cannot decode the pixels - "
            f"{type(exc).__name__}: {exc}; the plane is shown blank"
        )
        log.warning("%s", error)
        return _blank(spec), error


# --- the lazy DCMPix --------------------------------------------------------------------------

_PENDING: Any = object()


@cache
def _lazy_pix_class() -> type:
    class LazyPix(Pix):
        """A Pix whose ``data`` is decoded on first access (thread-safe, once)."""

        def __init__(self, spec: PlaneSpec, extra: dict[str, Any], *args: Any) -> None:
            self._spec = spec
            self._extra = extra
            self._values: np.ndarray | None = None
            self._lock = threading.Lock()
            self.error: str | None = None
            super().__init__(_PENDING, *args)

        @property
        def data(self) -> np.ndarray:
            if self._values is None:
                with self._lock:
                    if self._values is None:
                        self._values, self.error = read_plane(self._spec, self._extra)
            return self._values

        @data.setter
        def data(self, value: np.ndarray) -> None:
            if value is not _PENDING:
                self._values = value

        @property
        def decoded(self) -> bool:
            """True once the pixels have been read."""
            return self._values is not None

        @property
        def is_rgb(self) -> bool:
            return self._spec.rgb if self._values is None else self._values.ndim == 3

        @property
        def rows(self) -> int:
            return self._spec.rows if self._values is None else int(self._values.shape[0])

        @property
        def columns(self) -> int:
            return self._spec.columns if self._values is None else int(self._values.shape[1])

    return LazyPix


def load_pix(image: ImageRow, study_id: int | None) -> Pix:
    """The DCMPix of an image row (one frame): geometry now, pixels when first read.

    Raises NotAnImageObject (status 0) for a non-image object.
    """
    if not image.is_image:
        raise NotAnImageObject(
            f"{Path(image.path).name} is a {image.modality} object, not an image: OsiriX lists it in its study "
            "but does not open it in a viewer - open an image series instead"
        )
    extra = image.extra
    photometric = str(extra.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    rgb = int(extra.get("SamplesPerPixel") or 1) > 1 or photometric == "PALETTE COLOR"
    spec = PlaneSpec(
        image.path,
        image.frame,
        max(1, image.number_of_frames),
        image.rows,
        image.columns,
        rgb,
        str(extra.get("TransferSyntaxUID") or "1.2.840.10008.1.2.1"),
        image.sop_instance_uid,
    )
    spacing_values = extra.get("PixelSpacing") or [1.0, 1.0]
    spacing = (float(spacing_values[0]), float(spacing_values[-1]))
    orientation6 = image.orientation_6 or [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    o = [float(v) for v in orientation6]
    normal = (o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3])
    orientation = (*o, *normal)
    position = image.position_xyz or (0.0, 0.0, 0.0)
    origin = (float(position[0]), float(position[1]), float(position[2]))
    location = pix_slice_location(origin, orientation, spacing, image.rows, image.columns)
    center, width = _first(extra.get("WindowCenter")), _first(extra.get("WindowWidth"))
    if center is not None and photometric == "MONOCHROME1":  # OsiriX negates the saved level with the values
        center = -center
    window = (center, width) if center is not None and width else None
    pix: Pix = _lazy_pix_class()(
        spec, extra, spacing, origin, orientation, location, image.path, image.id, image.series_id, study_id, window
    )
    pix.slice_thickness = _first(extra.get("SliceThickness")) or 0.0
    return pix
