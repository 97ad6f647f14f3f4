"""``DCMPix*`` RPCs: pixels, geometry, conversions and ROI statistics of one image plane."""

from __future__ import annotations

from typing import Any

import numpy as np

from .geometry import roi_statistics
from .protocol import RpcFailure, implements, ok
from .state import OsirixState
from .workspace import Pix, Roi, default_window


def _pix(state: OsirixState, ref: Any) -> Pix:
    pix: Pix = state.live(ref, "DCMPix")
    return pix


def _pix_and_roi(state: OsirixState, request: Any) -> tuple[Pix, Roi, np.ndarray]:
    pix = _pix(state, request.pix)
    roi: Roi = state.live(request.roi, "ROI")
    return pix, roi, roi.pixel_map(pix.rows, pix.columns)


@implements
def DCMPixImage(state: OsirixState, request: Any) -> Any:
    """The pixels: float32 after rescale, or ARGB (the fast path in fastpix serialises this)."""
    from .fastpix import PixImage

    return PixImage(_pix(state, request))


@implements
def DCMPixSetImage(state: OsirixState, request: Any) -> Any:
    """Replace the pixels (same count as rows x columns)."""
    pix = _pix(state, request.pix)
    floats, argb = request.float_values(), request.argb_values()
    count = pix.rows * pix.columns
    if pix.is_rgb:
        if argb.size == 0:
            raise RpcFailure("No values provided for RGB pix")
        if argb.size != count * 4:
            raise RpcFailure("Incompatible image shape")
        if argb.min(initial=0) < 0 or argb.max(initial=0) > 255:
            raise RpcFailure("ARGB values must be in 0-255")
        with state.lock:
            pix.data = argb.astype(np.uint8).reshape(pix.rows, pix.columns, 4)
        return ok("DCMPixSetImage")
    if floats.size != count:
        raise RpcFailure("Incompatible image shape")
    with state.lock:
        pix.data = floats.astype(np.float32, copy=True).reshape(pix.rows, pix.columns)
    return ok("DCMPixSetImage")


@implements
def DCMPixIsRGB(state: OsirixState, request: Any) -> Any:
    """Whether the pixels are ARGB."""
    return ok("DCMPixIsRGB", is_rgb=_pix(state, request).is_rgb)


def _window(state: OsirixState, pix: Pix) -> tuple[float, float]:
    for viewer in state.viewers.displayed():
        if any(pix in frame for frame in viewer.frames):
            return viewer.wl, viewer.ww
    return default_window(pix)


@implements
def DCMPixConvertToRGB(state: OsirixState, request: Any) -> Any:
    """Greyscale -> ARGB through the current WL/WW; channel 0-2 = R, G or B only, 3 = all."""
    pix = _pix(state, request.pix)
    channel = request.rgb_channel
    if channel not in (0, 1, 2, 3):
        raise RpcFailure("Requested RGB type not understood")
    if pix.is_rgb:
        raise RpcFailure("DCMPix is already RGB")
    wl, ww = _window(state, pix)
    low = wl - ww / 2
    scaled = np.clip((pix.data.astype(np.float64) - low) / max(ww, 1e-12) * 255.0, 0, 255).astype(np.uint8)
    argb = np.zeros((pix.rows, pix.columns, 4), dtype=np.uint8)
    argb[..., 0] = 255
    for c in (0, 1, 2) if channel == 3 else (channel,):
        argb[..., 1 + c] = scaled
    with state.lock:
        pix.data = argb
    return ok("DCMPixConvertToRGB")


@implements
def DCMPixConvertToBW(state: OsirixState, request: Any) -> Any:
    """ARGB -> greyscale float from channel 0-2 (R, G, B) or 3 (their mean)."""
    pix = _pix(state, request.pix)
    channel = request.bw_channel
    if channel not in (0, 1, 2, 3):
        raise RpcFailure("Requested RGB type not understood")
    if not pix.is_rgb:
        raise RpcFailure("DCMPix is already greyscale")
    values = pix.data[..., 1:4].astype(np.float32)
    grey = values.mean(axis=2) if channel == 3 else values[..., channel]
    with state.lock:
        pix.data = np.ascontiguousarray(grey, dtype=np.float32)
    return ok("DCMPixConvertToBW")


@implements
def DCMPixComputeROI(state: OsirixState, request: Any) -> Any:
    """Mean, total, std dev, min, max, skewness and kurtosis of the pixels inside the ROI."""
    pix, _, mask = _pix_and_roi(state, request)
    if pix.is_rgb:
        raise RpcFailure("ROI statistics need a greyscale DCMPix: convert it with DCMPixConvertToBW")
    return ok("DCMPixComputeROI", **roi_statistics(pix.data[mask]))


@implements
def DCMPixROIValues(state: OsirixState, request: Any) -> Any:
    """The values inside the ROI with their row and column indices (row-major order)."""
    pix, _, mask = _pix_and_roi(state, request)
    rows, columns = np.nonzero(mask)
    return ok(
        "DCMPixROIValues",
        values=pix.greyscale()[rows, columns].tolist(),
        row_indices=rows.tolist(),
        column_indices=columns.tolist(),
    )


@implements
def DCMPixGetMapFromROI(state: OsirixState, request: Any) -> Any:
    """A rows x columns boolean map (row-major) of the pixels inside the ROI."""
    pix, _, mask = _pix_and_roi(state, request)
    return ok("DCMPixGetMapFromROI", rows=pix.rows, columns=pix.columns, map=mask.ravel().tolist())


@implements
def DCMPixShape(state: OsirixState, request: Any) -> Any:
    """Rows and columns."""
    pix = _pix(state, request)
    return ok("DCMPixShape", rows=pix.rows, columns=pix.columns)


@implements
def DCMPixSpacing(state: OsirixState, request: Any) -> Any:
    """PixelSpacing (mm): between rows, between columns."""
    pix = _pix(state, request)
    return ok("DCMPixSpacing", spacing_rows=pix.spacing[0], spacing_columns=pix.spacing[1])


@implements
def DCMPixOrigin(state: OsirixState, request: Any) -> Any:
    """ImagePositionPatient of the plane (mm)."""
    x, y, z = _pix(state, request).origin
    return ok("DCMPixOrigin", origin_x=x, origin_y=y, origin_z=z)


@implements
def DCMPixOrientation(state: OsirixState, request: Any) -> Any:
    """Row direction, column direction, normal."""
    return ok("DCMPixOrientation", orientation=list(_pix(state, request).orientation))


@implements
def DCMPixSliceLocation(state: OsirixState, request: Any) -> Any:
    """The DICOM SliceLocation (the projection on the normal when the tag is absent)."""
    return ok("DCMPixSliceLocation", slice_location=_pix(state, request).slice_location)


@implements
def DCMPixSourceFile(state: OsirixState, request: Any) -> Any:
    """The file the plane was read from."""
    return ok("DCMPixSourceFile", source_file=_pix(state, request).source_file)


def _origin(state: OsirixState, request: Any, attribute: str, what: str) -> int:
    value = getattr(_pix(state, request), attribute)
    if value is None:
        raise RpcFailure(f"{what} not available")
    return int(value)


@implements
def DCMPixDicomImage(state: OsirixState, request: Any) -> Any:
    """The DicomImage the plane came from."""
    return ok("DCMPixDicomImage", dicom_image=state.ref("DicomImage", _origin(state, request, "image_id", "Image")))


@implements
def DCMPixDicomSeries(state: OsirixState, request: Any) -> Any:
    """The DicomSeries the plane came from."""
    series = _origin(state, request, "series_id", "Series")
    return ok("DCMPixDicomSeries", dicom_series=state.ref("DicomSeries", series))


@implements
def DCMPixDicomStudy(state: OsirixState, request: Any) -> Any:
    """The DicomStudy the plane came from."""
    return ok("DCMPixDicomStudy", dicom_study=state.ref("DicomStudy", _origin(state, request, "study_id", "Study")))
