"""Read DICOM headers tolerantly and within bounds: never the pixel data, never the whole of a bad file.

* Files without the 128-byte preamble or without a file-meta header are read (pydicom ``force``);
  the transfer syntax is then guessed by pydicom and kept for the pixel decoder.
* Reading stops at the pixel data, at the first element whose tag is not above the previous one
  (the dataset is over or the rest is garbage: a 2 GB file of zeros after ``DICM`` ends at its first
  element) and after ``MAX_HEADER_BYTES`` of header bytes actually read.
* A malformed optional value does not reject the file: values are converted only when asked for,
  and the callers treat a conversion error of an optional tag as "absent".
* A deflated dataset is inflated as it is read, never as a whole: its header may inflate to
  ``MAX_INFLATED_HEADER_BYTES`` at most (pydicom would inflate the whole file at once, a 1.5 MB file
  to 1.5 GB); :func:`read_deflated` inflates a whole dataset (to decode its pixels) up to a bound.
* The dataset records where its pixel data starts: the declared length of the pixel data element
  (``osirix_pixel_length``, None when undefined: encapsulated) and the bytes the file really holds
  from there on (``osirix_pixel_bytes``, None for a deflated file), for the importer to check what a
  header declares against what the file has before anything is allocated.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any, BinaryIO

from pydicom.dataset import Dataset, FileDataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_dataset, read_file_meta_info, read_partial
from pydicom.tag import BaseTag, Tag
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian, ExplicitVRLittleEndian

from ...errors import HeaderTooLarge, InflatesTooFar

__all__ = [
    "MAX_HEADER_BYTES",
    "MAX_INFLATED_HEADER_BYTES",
    "HeaderTooLarge",
    "InflatesTooFar",
    "read_deflated",
    "read_dicom_header",
    "transfer_syntax_of",
    "is_dicomdir",
    "dicomdir_references",
    "MEDIA_STORAGE_DIRECTORY",
]

#: Header bytes read at most from one file (per-frame groups of large enhanced files stay far below).
MAX_HEADER_BYTES = 256 * 1024 * 1024
#: Bytes the header of a deflated file may inflate to (the pixel data after it is not inflated).
MAX_INFLATED_HEADER_BYTES = 64 * 1024 * 1024
#: SOP class of a DICOMDIR.
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
_PIXEL_TAGS = {0x7FE00008, 0x7FE00009, 0x7FE00010}


class _Inflating:
    """The inflated dataset of a deflated file, inflated as far as it is read (and no further than
    ``limit`` bytes): the file-like object pydicom's ``read_dataset`` reads."""

    def __init__(self, raw: BinaryIO, path: Path, limit: int):
        self._raw = raw
        self._path = path
        self._limit = limit
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._data = bytearray()
        self._position = 0
        self.name = str(path)

    def _fill(self, size: int) -> None:
        while len(self._data) < size and not self._inflater.eof:
            wanted = min(size - len(self._data) + (1 << 16), self._limit + 1 - len(self._data))
            chunk = self._inflater.unconsumed_tail or self._raw.read(1 << 16)
            if not chunk:
                break
            self._data += self._inflater.decompress(chunk, max(1, wanted))
            if len(self._data) > self._limit:
                raise InflatesTooFar(
                    f"{self._path}: the deflated dataset inflates to more than {self._limit // 2**20} MB"
                )

    def read(self, size: int = -1) -> bytes:
        end = self._limit + 1 if size is None or size < 0 else self._position + size
        self._fill(end)
        data = bytes(self._data[self._position : end])
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._position}.get(whence)
        if base is None:  # from the end: the whole dataset, within the limit
            self._fill(self._limit + 1)
            base = len(self._data)
        self._position = max(0, base + offset)
        return self._position

    def tell(self) -> int:
        return self._position


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
        self.pixel_length: int | None = None
        self.pixel_header = 8

    def __call__(self, tag: BaseTag, vr: str | None, length: int) -> bool:
        value = int(tag)
        if value in _PIXEL_TAGS:
            self.reached_pixels = True
            self.pixel_length = None if length == 0xFFFFFFFF else length
            self.pixel_header = 12 if vr is not None and vr.encode() in _LONG_VRS else 8
            return True
        if value < self.previous or value >> 16 == 0:  # equal: pydicom re-reads the first element
            self.garbage = True
            return True
        self.previous = value
        return False


def read_dicom_header(path: Path, specific_tags: list[Any] | None = None) -> Dataset:
    """The dataset of ``path`` up to (not including) its pixel data.

    Raises InvalidDicomError for a file that holds no DICOM dataset, HeaderTooLarge for a runaway
    header, InflatesTooFar for a deflated header that inflates too far. The dataset gets
    ``osirix_has_pixels`` (pixel data follows the header), ``osirix_pixel_length`` and
    ``osirix_pixel_bytes`` (module docstring).
    """
    tags = [t if isinstance(t, BaseTag) else Tag(t) for t in specific_tags] if specific_tags is not None else None
    rule = _StopRule()
    with open(path, "rb") as raw:
        deflated = _check_first_element(raw, path)
        if deflated is not None:
            ds = _read_deflated_header(raw, path, deflated, rule, tags)
            available = None
        else:
            bounded = _BoundedReader(raw, path, MAX_HEADER_BYTES)
            ds = read_partial(bounded, rule, defer_size=None, force=True, specific_tags=tags)  # type: ignore[arg-type]
            available = os.fstat(raw.fileno()).st_size - raw.tell() - rule.pixel_header
    if not len(ds) and not len(getattr(ds, "file_meta", ()) or ()):
        raise InvalidDicomError(f"{path}: no DICOM data elements")
    if rule.garbage and not len(ds):
        raise InvalidDicomError(f"{path}: a DICM marker but no readable data elements")
    ds.osirix_has_pixels = rule.reached_pixels
    ds.osirix_pixel_length = rule.pixel_length if rule.reached_pixels else None
    ds.osirix_pixel_bytes = max(0, available) if rule.reached_pixels and available is not None else None
    return ds


def _read_deflated_header(raw: BinaryIO, path: Path, offset: int, rule: _StopRule, tags: Any) -> Dataset:
    """The header of a deflated file, inflating only as far as it is read."""
    meta = read_file_meta_info(path)
    raw.seek(0)
    preamble = raw.read(128) if raw.read(132)[128:132] == b"DICM" else None
    raw.seek(offset)
    stream = _Inflating(raw, path, MAX_INFLATED_HEADER_BYTES)
    dataset = read_dataset(stream, False, True, stop_when=rule, specific_tags=tags)  # type: ignore[arg-type]
    ds = FileDataset(str(path), dataset, preamble, meta, False, True)
    ds.set_original_encoding(False, True, dataset._character_set)
    return ds


def read_deflated(path: Path, limit: int) -> Dataset:
    """The whole dataset of a deflated file (pixels included), inflated to at most ``limit`` bytes
    (InflatesTooFar beyond); its file meta says explicit VR little endian, as it now reads."""
    with open(path, "rb") as raw:
        offset = _check_first_element(raw, path)
        if offset is None:
            raise InvalidDicomError(f"{path}: not a deflated file")
        meta = read_file_meta_info(path)
        raw.seek(offset)
        dataset = read_dataset(_Inflating(raw, path, limit), False, True)  # type: ignore[arg-type]
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), dataset, None, meta, False, True)
    ds.set_original_encoding(False, True, dataset._character_set)
    return ds


_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}


def _check_first_element(raw: BinaryIO, path: Path) -> int | None:
    """Refuse a file whose dataset starts with a group-0000 tag (zeros, a DIMSE command set); answer
    where the dataset starts when the file meta says it is deflated (None otherwise).

    pydicom would read such a run element by element (a 2 GB sparse file: twenty minutes); the
    file meta (explicit VR little endian group 0002) is skipped here by its lengths alone.
    """
    head = raw.read(132)
    offset = 132 if head[128:132] == b"DICM" else 0
    raw.seek(offset)
    deflated = False
    while True:
        start = raw.tell()
        tag = raw.read(4)
        if len(tag) < 4:
            break
        group = int.from_bytes(tag[:2], "little")
        if group == 0:
            raise InvalidDicomError(f"{path}: no data elements after the DICM marker (zeros or a command set)")
        if group != 2:
            raw.seek(start)
            break
        vr = raw.read(2)
        if vr in _LONG_VRS:
            raw.read(2)
            length = int.from_bytes(raw.read(4), "little")
        else:
            length = int.from_bytes(raw.read(2), "little")
        if length == 0xFFFFFFFF:
            break
        if int.from_bytes(tag[2:], "little") == 0x0010:  # TransferSyntaxUID
            deflated = raw.read(length).rstrip(b"\0 ").decode("ascii", "replace") == DeflatedExplicitVRLittleEndian
            continue
        raw.seek(length, 1)
    position = raw.tell()
    raw.seek(0)
    return position if deflated else None


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
