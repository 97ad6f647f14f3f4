"""Read DICOM headers tolerantly and within bounds: never the pixel data, never the whole of a bad file.

* Files without the 128-byte preamble or without a file-meta header are read (pydicom ``force``);
  the transfer syntax is then guessed by pydicom and kept for the pixel decoder.
* Reading stops at the pixel data, at the first element whose tag is not above the previous one
  (the dataset is over or the rest is garbage: a 2 GB file of zeros after ``DICM`` ends at its first
  element) and after ``MAX_HEADER_BYTES`` of header bytes actually read.
* A malformed optional value does not reject the file: values are converted only when asked for,
  and the callers treat a conversion error of an optional tag as "absent".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, BinaryIO

from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_partial
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID

from ...errors import HeaderTooLarge

__all__ = [
    "MAX_HEADER_BYTES",
    "HeaderTooLarge",
    "read_dicom_header",
    "transfer_syntax_of",
    "is_dicomdir",
    "dicomdir_references",
    "MEDIA_STORAGE_DIRECTORY",
]

#: Header bytes read at most from one file (per-frame groups of large enhanced files stay far below).
MAX_HEADER_BYTES = 256 * 1024 * 1024
#: SOP class of a DICOMDIR.
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
_PIXEL_TAGS = {0x7FE00008, 0x7FE00009, 0x7FE00010}


class _BoundedReader:
    """A file whose reads stop (with HeaderTooLarge) after ``budget`` bytes; seeks are free."""

    def __init__(self, raw: BinaryIO, path: Path, budget: int):
        self._raw = raw
        self._path = path
        self._left = budget

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:  # the whole rest (a deflated dataset): bounded all the same
            data = self._raw.read(self._left + 1)
            if len(data) > self._left:
                raise HeaderTooLarge(f"{self._path}: deflated dataset longer than {MAX_HEADER_BYTES // 2**20} MB")
            self._left -= len(data)
            return data
        if size > self._left:
            raise HeaderTooLarge(
                f"{self._path}: header longer than {MAX_HEADER_BYTES // 2**20} MB - not a DICOM "
                "file this host will index"
            )
        data = self._raw.read(size)
        self._left -= len(data)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _StopRule:
    """pydicom's ``stop_when``: pixel data, or a tag that does not increase (end of the real dataset)."""

    def __init__(self) -> None:
        self.previous = -1
        self.reached_pixels = False
        self.garbage = False

    def __call__(self, tag: BaseTag, vr: str | None, length: int) -> bool:
        value = int(tag)
        if value in _PIXEL_TAGS:
            self.reached_pixels = True
            return True
        if value < self.previous or value >> 16 == 0:  # equal: pydicom re-reads the first element
            self.garbage = True
            return True
        self.previous = value
        return False


def read_dicom_header(path: Path, specific_tags: list[Any] | None = None) -> Dataset:
    """The dataset of ``path`` up to (not including) its pixel data.

    Raises InvalidDicomError for a file that holds no DICOM dataset, HeaderTooLarge for a runaway
    header. The dataset gets ``osirix_has_pixels`` (pixel data follows the header).
    """
    tags = [t if isinstance(t, BaseTag) else Tag(t) for t in specific_tags] if specific_tags is not None else None
    rule = _StopRule()
    with open(path, "rb") as raw:
        _check_first_element(raw, path)
        bounded = _BoundedReader(raw, path, MAX_HEADER_BYTES)
        ds = read_partial(bounded, rule, defer_size=None, force=True, specific_tags=tags)  # type: ignore[arg-type]
    if not len(ds) and not len(getattr(ds, "file_meta", ()) or ()):
        raise InvalidDicomError(f"{path}: no DICOM data elements")
    if rule.garbage and not len(ds):
        raise InvalidDicomError(f"{path}: a DICM marker but no readable data elements")
    ds.osirix_has_pixels = rule.reached_pixels
    return ds


_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}


def _check_first_element(raw: BinaryIO, path: Path) -> None:
    """Refuse a file whose dataset starts with a group-0000 tag (zeros, a DIMSE command set).

    pydicom would read such a run element by element (a 2 GB sparse file: twenty minutes); the
    file meta (explicit VR little endian group 0002) is skipped here by its lengths alone.
    """
    head = raw.read(132)
    offset = 132 if head[128:132] == b"DICM" else 0
    raw.seek(offset)
    while True:
        tag = raw.read(4)
        if len(tag) < 4:
            break
        group = int.from_bytes(tag[:2], "little")
        if group == 0:
            raise InvalidDicomError(f"{path}: no data elements after the DICM marker (zeros or a command set)")
        if group != 2:
            break
        vr = raw.read(2)
        if vr in _LONG_VRS:
            raw.read(2)
            length = int.from_bytes(raw.read(4), "little")
        else:
            length = int.from_bytes(raw.read(2), "little")
        if length == 0xFFFFFFFF:
            break
        raw.seek(length, 1)
    raw.seek(0)


def transfer_syntax_of(ds: Dataset) -> str:
    """The transfer syntax the dataset was read with (from the file meta, else pydicom's guess)."""
    meta = getattr(ds, "file_meta", None)
    uid = meta.get("TransferSyntaxUID") if meta is not None else None
    if uid:
        return str(uid)
    implicit, little = ds.original_encoding
    if implicit is None:
        return "1.2.840.10008.1.2"
    if implicit:
        return "1.2.840.10008.1.2"
    return "1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"


def is_dicomdir(ds: Dataset) -> bool:
    """True for a DICOMDIR (media storage directory)."""
    meta = getattr(ds, "file_meta", None)
    sop = meta.get("MediaStorageSOPClassUID") if meta is not None else None
    return str(sop or "") == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds


def dicomdir_references(path: Path) -> list[Path]:
    """The files a DICOMDIR refers to (ReferencedFileID of its records, relative to its folder)."""
    import pydicom

    ds = pydicom.dcmread(path, force=True)
    found: list[Path] = []
    for record in ds.get("DirectoryRecordSequence", []):
        parts = record.get("ReferencedFileID")
        if not parts:
            continue
        parts = [parts] if isinstance(parts, str) else list(parts)
        target = path.parent.joinpath(*[str(p) for p in parts])
        if not target.exists():  # media written on case-insensitive systems
            target = _case_insensitive(path.parent, [str(p) for p in parts]) or target
        found.append(target)
    return found


def _case_insensitive(root: Path, parts: list[str]) -> Path | None:
    current = root
    for part in parts:
        try:
            names = {name.upper(): name for name in os.listdir(current)}
        except OSError:
            return None
        if part.upper() not in names:
            return None
        current = current / names[part.upper()]
    return current


def uid_name(uid: str) -> str:
    """pydicom's name of a UID ('' when unknown)."""
    try:
        return str(UID(uid).name)
    except Exception:  # pragma: no cover - UID() accepts any string
        return ""
