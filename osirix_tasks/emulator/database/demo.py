"""The bundled demo data: a small, real, multi-slice MR series generated with pydicom.

A 24-slice axial series of 128x128 16-bit images of a synthetic phantom (a body ellipse holding
three spheres of different intensities), with full patient/study/series/geometry tags, so that
``serve`` works on a fresh machine. UIDs are derived from fixed seeds: generating it twice gives
the same study, and importing it twice adds nothing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, MRImageStorage, generate_uid

__all__ = ["SLICES", "SIZE", "STUDY_UID", "SERIES_UID", "generate_demo_series", "demo_folder"]

SLICES = 24
SIZE = 128
SPACING = 1.5  # mm, in-plane
THICKNESS = 4.0  # mm, between slices
_PREFIX = "1.2.826.0.1.3680043.10.1458."  # pydicom's UID root + our branch


def _uid(*seed: object) -> UID:
    return generate_uid(prefix=_PREFIX, entropy_srcs=["osirix-tasks-demo", *map(str, seed)])


#: The demo study's StudyInstanceUID and its series' SeriesInstanceUID.
STUDY_UID = _uid("study")
SERIES_UID = _uid("series")


def phantom_slice(index: int) -> np.ndarray:
    """The stored (uint16) pixel values of plane ``index``."""
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
    z = (index - (SLICES - 1) / 2) * THICKNESS
    cx, cy = (SIZE - 1) / 2, (SIZE - 1) / 2
    image = np.zeros((SIZE, SIZE))
    body = ((x - cx) / 55) ** 2 + ((y - cy) / 45) ** 2 + (z / 60) ** 2 <= 1
    image[body] = 200
    for sx, sy, sz, radius, value in ((40, 64, 0, 16, 600), (88, 60, 10, 12, 900), (64, 90, -20, 10, 400)):
        inside = ((x - sx) * SPACING) ** 2 + ((y - sy) * SPACING) ** 2 + (z - sz) ** 2 <= (radius * SPACING) ** 2
        image[inside] = value
    texture = 20 * np.sin(x / 5.0) * np.cos(y / 7.0) + 5 * ((index * 7919 + x * 31 + y * 17) % 11)
    return np.clip(image + texture * body, 0, 4095).astype(np.uint16)


def generate_demo_series(folder: Path) -> list[Path]:
    """Write the demo series into ``folder`` (created) and return its files, slice by slice."""
    folder.mkdir(parents=True, exist_ok=True)
    study_uid, series_uid, frame_uid = STUDY_UID, SERIES_UID, _uid("frame")
    paths = []
    for index in range(SLICES):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = _uid("image", index)
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        meta.ImplementationClassUID = UID(_PREFIX + "1")
        path = folder / f"DEMO-{index + 1:04d}.dcm"
        ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SpecificCharacterSet = "ISO_IR 100"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "ND"]
        ds.SOPClassUID = MRImageStorage
        ds.SOPInstanceUID = _uid("image", index)
        ds.StudyDate = ds.SeriesDate = ds.AcquisitionDate = ds.ContentDate = "20240115"
        ds.StudyTime = "093000"
        ds.SeriesTime = "093512.250000"
        ds.AcquisitionTime = f"0935{12 + index // 10:02d}.{(index % 10) * 100:03d}000"
        ds.ContentTime = ds.AcquisitionTime
        ds.Modality = "MR"
        ds.Manufacturer = "osirix-tasks"
        ds.InstitutionName = "osirix-tasks demo hospital"
        ds.ReferringPhysicianName = "Demo^Referrer"
        ds.StudyDescription = "demo brain phantom"
        ds.SeriesDescription = "t1 axial demo"
        ds.PatientName = "Demo^Phantom"
        ds.PatientID = "DEMO-0001"
        ds.PatientBirthDate = "19800101"
        ds.PatientSex = "O"
        ds.SliceThickness = THICKNESS
        ds.SpacingBetweenSlices = THICKNESS
        ds.EchoTime = "12"
        ds.RepetitionTime = "500"
        ds.StudyInstanceUID = study_uid
        ds.SeriesInstanceUID = series_uid
        ds.FrameOfReferenceUID = frame_uid
        ds.StudyID = "1"
        ds.SeriesNumber = 1
        ds.AcquisitionNumber = 1
        ds.InstanceNumber = index + 1
        z = (index - (SLICES - 1) / 2) * THICKNESS
        ds.ImagePositionPatient = [-(SIZE - 1) * SPACING / 2, -(SIZE - 1) * SPACING / 2, z]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.SliceLocation = z
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = ds.Columns = SIZE
        ds.PixelSpacing = [SPACING, SPACING]
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.WindowCenter = 450
        ds.WindowWidth = 900
        ds.RescaleIntercept = 0
        ds.RescaleSlope = 1
        ds.PixelData = phantom_slice(index).tobytes()
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
    return paths


def demo_folder(data_dir: Path) -> Path:
    """The demo series under ``data_dir``, generated on first use."""
    folder = data_dir / "demo-data"
    if len(list(folder.glob("DEMO-*.dcm"))) != SLICES:
        generate_demo_series(folder)
    return folder
