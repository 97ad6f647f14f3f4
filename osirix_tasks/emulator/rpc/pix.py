"""``DCMPix*`` RPCs: pixels, geometry, conversions and ROI statistics of one plane (``gRPCDCMPixDelegate.mm``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import OsirixError
from ..geometry import roi_statistics
from ..pix import Pix
from ..pix_convert import to_bw, to_rgb
from ..protocol import implements, ok
from ..roi import MAP_TYPES, Roi
from ..roi_pixels import polygon_map, values_map
from ..state import OsirixState
from .tables import field, fields, getters, ref

RGB_VALUES = "No values provided for RGB pix"


def _pix(state: OsirixState, ref: Any) -> Pix:
    pix: Pix = state.live(ref, "DCMPix")
    return pix


def _grey_pix_and_roi(state: OsirixState, request: Any) -> tuple[Pix, Roi]:
    """The plugin's order for statistics and values: the pix, then that it is not RGB, then the ROI."""
    pix = _pix(state, request.pix)
    if pix.is_rgb:
        raise OsirixError(RGB_VALUES)
    roi: Roi = state.live(request.roi, "ROI")
    return pix, roi


getters(
    _pix,
    {
        "DCMPixIsRGB": field("is_rgb", lambda pix: pix.is_rgb),
        "DCMPixShape": fields(rows=lambda pix: pix.rows, columns=lambda pix: pix.columns),
        "DCMPixSpacing": fields(spacing_rows=lambda pix: pix.spacing[0], spacing_columns=lambda pix: pix.spacing[1]),
        "DCMPixOrigin": fields(
            origin_x=lambda pix: pix.origin[0], origin_y=lambda pix: pix.origin[1], origin_z=lambda pix: pix.origin[2]
        ),
        "DCMPixOrientation": field("orientation", lambda pix: list(pix.orientation)),
        "DCMPixSliceLocation": field("slice_location", lambda pix: pix.slice_location),
        "DCMPixSourceFile": field("source_file", lambda pix: pix.source_file),
        "DCMPixDicomImage": ref("dicom_image", "DicomImage", lambda pix: pix.image_id),
        "DCMPixDicomSeries": ref("dicom_series", "DicomSeries", lambda pix: pix.series_id),
        "DCMPixDicomStudy": ref("dicom_study", "DicomStudy", lambda pix: pix.study_id),
    },
)


@implements
def DCMPixImage(state: OsirixState, request: Any) -> Any:
    """The pixels: float32 after rescale, or ARGB (the fast path in fastpix serialises this)."""
    from ...wire.pixel_encode import PixImage

    return PixImage(_pix(state, request))


@implements
def DCMPixSetImage(state: OsirixState, request: Any) -> Any:
    """Replace the pixels: ARGB values for an RGB pix (each kept modulo 256, as the plugin casts them to
    bytes), floats otherwise; ``Incompatible image shape`` unless the count matches."""
    pix = _pix(state, request.pix)
    count = pix.rows * pix.columns
    if pix.is_rgb:
        argb = request.argb_values()
        if argb.size != count * 4:
            raise OsirixError("Incompatible image shape")
        with state.lock:
            pix.data = (argb.astype(np.int64) & 0xFF).astype(np.uint8).reshape(pix.rows, pix.columns, 4)
        return ok("DCMPixSetImage")
    floats = request.float_values()
    if floats.size != count:
        raise OsirixError("Incompatible image shape")
    with state.lock:
        pix.data = floats.astype(np.float32, copy=True).reshape(pix.rows, pix.columns)
    return ok("DCMPixSetImage")


def _convert(state: OsirixState, request: Any, rgb: bool) -> None:
    """The plugin's order: the pix, then that it is not already in the target form, then the channel 0-3."""
    pix = _pix(state, request.pix)
    name, channel = ("RGB", request.rgb_channel) if rgb else ("BW", request.bw_channel)
    if pix.is_rgb == rgb:
        raise OsirixError(f"Data already {name}")
    if channel not in (0, 1, 2, 3):
        raise OsirixError(f"Requested {name} type not understood")
    with state.lock:
        pix.data = to_rgb(pix.data, channel) if rgb else to_bw(pix.data, channel)


@implements
def DCMPixConvertToRGB(state: OsirixState, request: Any) -> Any:
    """Greyscale -> ARGB through the plane's own value range (see pix_convert)."""
    _convert(state, request, rgb=True)
    return ok("DCMPixConvertToRGB")


@implements
def DCMPixConvertToBW(state: OsirixState, request: Any) -> Any:
    """ARGB -> greyscale from one channel or their mean."""
    _convert(state, request, rgb=False)
    return ok("DCMPixConvertToBW")


@implements
def DCMPixComputeROI(state: OsirixState, request: Any) -> Any:
    """Mean, total, std dev, min, max, skewness and kurtosis of the pixels inside the ROI."""
    pix, roi = _grey_pix_and_roi(state, request)
    mask = values_map(roi, pix.rows, pix.columns)
    return ok("DCMPixComputeROI", **roi_statistics(pix.data[mask]))


@implements
def DCMPixROIValues(state: OsirixState, request: Any) -> Any:
    """The values inside the ROI with their row and column indices (row-major order)."""
    pix, roi = _grey_pix_and_roi(state, request)
    rows, columns = np.nonzero(values_map(roi, pix.rows, pix.columns))
    return ok(
        "DCMPixROIValues",
        values=pix.data[rows, columns].tolist(),
        row_indices=rows.tolist(),
        column_indices=columns.tolist(),
    )


@implements
def DCMPixGetMapFromROI(state: OsirixState, request: Any) -> Any:
    """A rows x columns boolean map of a brush, polygon or pencil ROI (``Invalid ROI`` for other types)."""
    pix = _pix(state, request.pix)
    roi: Roi = state.live(request.roi, "ROI")
    if roi.itype not in MAP_TYPES:
        raise OsirixError("Invalid ROI")
    mask = polygon_map(roi, pix.rows, pix.columns)
    return ok("DCMPixGetMapFromROI", rows=pix.rows, columns=pix.columns, map=mask.ravel().tolist())
