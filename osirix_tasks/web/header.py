"""What the viewer's corners and overlays show that the protocol does not carry: read from the image's
own file (``DCMPixSourceFile``), header only, as OsiriX reads its annotations from the DICOM file.

Works for a real OsiriX on the same machine too (the file path is the one OsiriX reads). A file that
cannot be read gives empty values, never an error: the corners then show what the protocol gave.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

__all__ = ["header_info", "overlays", "OVERLAY_GROUPS"]

#: DICOM overlay planes live in the even groups 0x6000-0x601E.
OVERLAY_GROUPS = tuple(range(0x6000, 0x6020, 2))
#: The largest overlay plane decoded (rows x columns); larger declared sizes are skipped.
MAX_OVERLAY_PIXELS = 4096 * 4096

_FIELDS = {
    "patient": "PatientName",
    "patient_id": "PatientID",
    "birth_date": "PatientBirthDate",
    "sex": "PatientSex",
    "study": "StudyDescription",
    "study_date": "StudyDate",
    "study_id": "StudyID",
    "accession": "AccessionNumber",
    "institution": "InstitutionName",
    "series": "SeriesDescription",
    "series_number": "SeriesNumber",
    "thickness": "SliceThickness",
    "modality": "Modality",
    "manufacturer": "Manufacturer",
}


def _read(path: str, *, pixels: bool = False) -> Any | None:
    import pydicom

    try:
        return pydicom.dcmread(path, stop_before_pixels=not pixels, force=True)
    except Exception:  # any unreadable file: the corners go without
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "\\".join(str(v) for v in value)
    return str(value)


def header_info(path: str) -> dict[str, str]:
    """The patient, study and series facts of one image's file ('' for what it lacks)."""
    ds = _read(path)
    if ds is None:
        return {key: "" for key in _FIELDS}
    return {key: _text(ds.get(keyword)) for key, keyword in _FIELDS.items()}


def overlays(path: str, frame: int = 0) -> list[dict[str, Any]]:
    """The overlay planes (60xx) of one image's file: rows, columns, origin (1-based, as stored), a
    description, and the bits packed row by row (numpy ``packbits``, base64)."""
    ds = _read(path, pixels=True)
    if ds is None:
        return []
    out = []
    for group in OVERLAY_GROUPS:
        if (group, 0x3000) not in ds:
            continue
        rows, columns = int(ds[group, 0x0010].value), int(ds[group, 0x0011].value)
        if rows * columns > MAX_OVERLAY_PIXELS or rows <= 0 or columns <= 0:
            continue
        try:
            bits = np.asarray(ds.overlay_array(group))
        except Exception:  # a damaged plane is left out
            continue
        if bits.ndim == 3:
            bits = bits[min(frame, bits.shape[0] - 1)]
        origin = ds.get((group, 0x0050))
        origin_value = [int(v) for v in origin.value] if origin is not None else [1, 1]
        label = ds.get((group, 0x0022))
        out.append(
            {
                "group": f"{group:04X}",
                "rows": rows,
                "columns": columns,
                "origin": origin_value,  # row, column of the overlay's first pixel, 1-based
                "description": _text(label.value) if label is not None else "",
                "bits": base64.b64encode(np.packbits(bits.astype(bool)).tobytes()).decode("ascii"),
            }
        )
    return out
