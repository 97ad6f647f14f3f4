"""A small synthetic cohort written with pydicom: several patients, studies and series, for batch tests
and benchmarks.

Study ``s`` belongs to patient ``COHORT-{s:03d}``; its series alternate between an MR ``t2 axial``, an
MR ``t1 axial`` and a CT ``ct abdomen`` (so queries have something to tell apart). Pixel values are
seeded per series, so each series has its own statistics. UIDs derive from the seed: writing the
same cohort twice gives the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

__all__ = ["CohortSeries", "write_cohort", "KINDS"]

_PREFIX = "1.2.826.0.1.3680043.10.1459."
#: (modality, series description) of a study's series, in turn.
KINDS = (("MR", "t2 axial"), ("MR", "t1 axial"), ("CT", "ct abdomen"))


@dataclass(frozen=True)
class CohortSeries:
    """One written series: its uids, attributes and files."""

    patient_id: str
    study_uid: str
    series_uid: str
    modality: str
    description: str
    study_date: str
    files: tuple[Path, ...]


def _uid(seed: int, *parts: object) -> str:
    return str(generate_uid(prefix=_PREFIX, entropy_srcs=["osirix-tasks-cohort", str(seed), *map(str, parts)]))


def _slice(rng: np.random.Generator, size: int, level: int) -> np.ndarray:
    return rng.integers(level, level + 400, size=(size, size), dtype=np.uint16)


def _dataset(path: Path, modality: str, sop_uid: str) -> FileDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage if modality == "MR" else CTImageStorage
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = sop_uid
    return ds


def write_cohort(
    folder: Path, *, studies: int = 8, series_per_study: int = 3, slices: int = 3, size: int = 32, seed: int = 7
) -> list[CohortSeries]:
    """Write the cohort into ``folder`` (one sub-folder per series); returns its series."""
    written = []
    for s in range(studies):
        study_uid = _uid(seed, "study", s)
        study_date = f"20{18 + s % 6:02d}{1 + s % 12:02d}{1 + s % 27:02d}"
        for k in range(series_per_study):
            modality, description = KINDS[k % len(KINDS)]
            series_uid = _uid(seed, "series", s, k)
            rng = np.random.default_rng([seed, s, k])
            level = int(rng.integers(100, 1500))
            target = folder / f"study{s:03d}" / f"series{k:02d}"
            target.mkdir(parents=True, exist_ok=True)
            files = []
            for i in range(slices):
                path = target / f"{i:03d}.dcm"
                ds = _dataset(path, modality, _uid(seed, "image", s, k, i))
                ds.Modality = modality
                ds.PatientName = f"Cohort^{s:03d}"
                ds.PatientID = f"COHORT-{s:03d}"
                ds.StudyInstanceUID = study_uid
                ds.SeriesInstanceUID = series_uid
                ds.StudyDate = ds.SeriesDate = study_date
                ds.StudyTime = ds.SeriesTime = "100000"
                ds.StudyDescription = f"cohort study {s}"
                ds.SeriesDescription = description
                ds.SeriesNumber = k + 1
                ds.InstanceNumber = i + 1
                ds.ImagePositionPatient = [0.0, 0.0, float(i) * 2.0]
                ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
                ds.FrameOfReferenceUID = _uid(seed, "frame", s, k)
                ds.PixelSpacing = [1.0, 1.0]
                ds.SliceThickness = 2.0
                ds.SamplesPerPixel = 1
                ds.PhotometricInterpretation = "MONOCHROME2"
                ds.Rows = ds.Columns = size
                ds.BitsAllocated = ds.BitsStored = 16
                ds.HighBit = 15
                ds.PixelRepresentation = 0
                ds.RescaleIntercept = 0
                ds.RescaleSlope = 1
                ds.PixelData = _slice(rng, size, level).tobytes()
                pydicom.dcmwrite(path, ds, enforce_file_format=True)
                files.append(path)
            written.append(
                CohortSeries(f"COHORT-{s:03d}", study_uid, series_uid, modality, description, study_date, tuple(files))
            )
    return written
