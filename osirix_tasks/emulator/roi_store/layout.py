"""Where a study's stored ROIs live, and the UIDs of its ROI series.

OsiriX keeps a study's ROIs in one series of the study, ``OsiriX ROI SR`` (series number 5002, an
SR SOP class), one object per image that has ROIs, found by the comment ``<SOPInstanceUID>-<frame>``
(``DicomStudy.m`` ``roiSRSeries``, ``roiForImage:``). We do the same, with standard objects: the
SR of each plane in ``OsiriX ROI SR``, and the SEG of its brush ROIs in a second series,
``OsiriX ROI SEG`` (number 5009: OsiriX keeps masks inside its own archive and has no such series).

Files: ``DATABASE.noindex/ROIs/<study>/<plane>.sr.dcm`` and ``<plane>-<seg>.seg.dcm``, names made
of hashes (UIDs found in files are not trusted as file names); folders 0700, files 0600, every
write atomic (a ``.part`` file, fsync, rename).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from ..._support.private import open_private, private_folder
from ...roidicom.records import PlaneKey

__all__ = [
    "SR_SERIES",
    "SEG_SERIES",
    "series_uid",
    "study_folder",
    "sr_path",
    "seg_path",
    "write_atomic",
    "ROI_FOLDER",
    "is_osirix_own_series",
]

#: (description, series number) of a study's ROI series, as OsiriX names its ROI SR series.
SR_SERIES = ("OsiriX ROI SR", 5002)
SEG_SERIES = ("OsiriX ROI SEG", 5009)
ROI_FOLDER = "ROIs"
_UID_PREFIX = "1.2.826.0.1.3680043.10.1458.20."  # pydicom's root + our branch


#: Series OsiriX keeps for itself and leaves out of a study's ``imageSeries`` (Horos ``DicomStudy.m``
#: ``displaySeriesWithSOPClassUID:``), with our ROI SEG series.
OWN_SERIES_PREFIXES = (
    "OsiriX ROI SR",
    "OsiriX Annotations SR",
    "OsiriX Report SR",
    "OsiriX WindowsState SR",
    "OsiriX ROI SEG",
)


def is_osirix_own_series(description: str) -> bool:
    """Whether a series description names one of OsiriX's own series (not shown as an image series)."""
    return description.startswith(OWN_SERIES_PREFIXES)


def _digest(text: str, size: int = 24) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:size]


def series_uid(study_instance_uid: str, description: str) -> str:
    """The SeriesInstanceUID of a study's ROI series (the same in every host, so it is found again)."""
    return str(generate_uid(prefix=_UID_PREFIX, entropy_srcs=["osirix-tasks", description, study_instance_uid]))


def study_folder(files_folder: Path, study_instance_uid: str) -> Path:
    """The folder of a study's stored ROIs."""
    return files_folder / ROI_FOLDER / _digest(study_instance_uid, 16)


def sr_path(folder: Path, key: PlaneKey) -> Path:
    """The SR of a plane's ROIs."""
    return folder / f"{_digest(key.label())}.sr.dcm"


def seg_path(folder: Path, key: PlaneKey, seg_uid: str) -> Path:
    """The SEG of a plane's brush ROIs (named by its SOP instance, so the SR in place names its SEG)."""
    return folder / f"{_digest(key.label())}-{_digest(seg_uid, 12)}.seg.dcm"


def make_private_folder(folder: Path) -> None:
    """Create ``folder`` and its missing parents (up to the database's files folder) owner-only; an
    existing ``folder`` is tightened (see :mod:`osirix_tasks._support.private`)."""
    missing = []
    current = folder
    while not current.exists():
        missing.append(current)
        current = current.parent
    for path in reversed(missing) if missing else [folder]:
        private_folder(path)


def write_atomic(ds: Dataset, path: Path) -> None:
    """Save ``ds`` at ``path``: written to an owner-only ``.part`` file, flushed to disk, renamed."""
    make_private_folder(path.parent)
    partial = path.with_name(path.name + ".part")
    fd = open_private(partial)
    try:
        with os.fdopen(fd, "wb") as handle:
            ds.save_as(handle, enforce_file_format=True)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
