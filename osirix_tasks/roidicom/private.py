"""Our private tag block: what standard SR and SEG cannot hold exactly, as one JSON document.

Private creator ``OSIRIX-TASKS ROI`` reserves a block in group 0x0071 (DICOM PS3.5 section 7.8);
element 0x01 of the block (``(0071,xx01)``, UT) holds the JSON document. It is registered in
pydicom's private dictionary so dumps name it. Other tools ignore it and read the standard
content; we restore ROIs exactly from it.

The document (version 1)::

    {"version": 1,
     "planes": [{"sop": "<SOPInstanceUID>", "frame": <0-based frame>,
                 "rois": [RoiRecord.to_json() + {"seg": "<SEG SOPInstanceUID>", "segment": n} for a mask],
                 "imported_from": ["<SOPInstanceUID of an object whose ROIs were merged here>", ...]}]}
"""

from __future__ import annotations

import json
from typing import Any

from pydicom.datadict import add_private_dict_entries
from pydicom.dataset import Dataset

__all__ = ["PRIVATE_CREATOR", "PRIVATE_GROUP", "write_document", "read_document", "DOCUMENT_VERSION"]

PRIVATE_CREATOR = "OSIRIX-TASKS ROI"
PRIVATE_GROUP = 0x0071
DOCUMENT_VERSION = 1
_ELEMENT = 0x01
#: A document larger than this is not ours (or is damaged): refused, not parsed.
MAX_DOCUMENT = 64 * 1024 * 1024

add_private_dict_entries(
    PRIVATE_CREATOR, {0x00710001: ("UT", "1", "OsiriX-tasks ROI attributes (JSON)", "OsirixTasksRoiDocument")}
)


def write_document(ds: Dataset, document: dict[str, Any]) -> None:
    """Put ``document`` into ``ds``'s private block (reserving the block)."""
    block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True)
    block.add_new(_ELEMENT, "UT", json.dumps({"version": DOCUMENT_VERSION, **document}, separators=(",", ":")))


def read_document(ds: Dataset) -> dict[str, Any] | None:
    """The document of ``ds``, or None when it has none. Raises ValueError when it is damaged."""
    try:
        block = ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR)
    except KeyError:
        return None
    if block.get_tag(_ELEMENT) not in ds:
        return None
    raw = ds[block.get_tag(_ELEMENT)].value
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    if len(text) > MAX_DOCUMENT:
        raise ValueError(f"private ROI document is {len(text)} characters, more than {MAX_DOCUMENT}")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"private ROI document is not JSON ({exc})") from None
    if not isinstance(document, dict) or not isinstance(document.get("planes"), list):
        raise ValueError("private ROI document has no 'planes' list")
    if int(document.get("version", 0)) > DOCUMENT_VERSION:
        raise ValueError(f"private ROI document version {document.get('version')} is newer than ours")
    return document
