"""The source images' headers, as highdicom takes them for the objects derived from them.

highdicom copies the patient and study from the first source image and requires the attributes
of those modules to be present (type 2: present, possibly empty). Files in the wild often lack
some (no AccessionNumber, no StudyID ...): they are added empty to our in-memory copy of the
header, never to the file.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

__all__ = ["source_header", "MAX_HEADER"]

#: Type 2 attributes of the patient, general study and general series modules highdicom reads.
_TYPE2 = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)
#: A header (everything before the pixel data) larger than this is refused.
MAX_HEADER = 64 * 1024 * 1024


def source_header(path: str | os.PathLike[str]) -> Dataset:
    """The header of the DICOM file at ``path`` (no pixel data), with the type 2 attributes highdicom
    needs present. Raises OSError or pydicom's InvalidDicomError for a file that cannot serve."""
    stat = Path(path).stat()
    return _cached(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=512)
def _cached(path: str, mtime_ns: int, size: int) -> Dataset:
    ds = pydicom.dcmread(path, stop_before_pixels=True, defer_size=MAX_HEADER)
    for keyword in _TYPE2:
        if keyword not in ds:
            setattr(ds, keyword, "")
    return ds
