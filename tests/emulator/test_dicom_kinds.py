"""Clinical DICOM kinds in a real ``osirix-tasks serve``: compressed, multi-frame, colour, rescaled.

Each file (pydicom's bundled test files and the ``pydicom-data`` package) is given its own study
and series UIDs, imported by a real host, opened in a viewer over gRPC; every frame's DCMPix
values must equal what pydicom's own functions compute from the file (apply_modality_lut,
apply_color_lut, convert_color_space, and the functional groups read here), and the counts must
say one image per frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2, viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty
from pydicom.data import get_testdata_file
from pydicom.pixels import pixel_array
from pydicom.pixels.processing import apply_color_lut, apply_modality_lut, convert_color_space
from pydicom.uid import generate_uid

from osirix_tasks.testing import RunningHost, running_host
from tests.helpers import ok

#: kind -> test file (pydicom's test files; the ones marked * come from pydicom-data).
KINDS = {
    "jpeg baseline YBR_FULL_422": "SC_rgb_dcmtk_+eb+cy+np.dcm",
    "jpeg baseline RGB": "SC_rgb_jpeg_dcmtk.dcm",
    "jpeg baseline 120-frame US cine*": "color3d_jpeg_baseline.dcm",
    "jpeg extended 12-bit": "JPGExtended.dcm",
    "jpeg lossless greyscale*": "JPGLosslessP14SV1_1s_1f_8b.dcm",
    "jpeg lossless RGB": "SC_rgb_jpeg_gdcm.dcm",
    "jpeg-ls lossless": "MR_small_jpeg_ls_lossless.dcm",
    "jpeg-ls near-lossless 16-bit": "JPEGLSNearLossless_16.dcm",
    "jpeg 2000 lossless": "MR_small_jp2klossless.dcm",
    "jpeg 2000 lossy CT with rescale": "693_J2KI.dcm",
    "jpeg 2000 YBR_RCT colour*": "US1_J2KR.dcm",
    "jpeg 2000 enhanced MR 10 frames*": "emri_small_jpeg_2k_lossless.dcm",
    "rle greyscale": "MR_small_RLE.dcm",
    "rle 16-bit RGB 2 frames": "SC_rgb_rle_16bit_2frame.dcm",
    "rle RT dose 15 frames": "rtdose_rle.dcm",
    "enhanced CT per-frame rescale*": "eCT_Supplemental.dcm",
    "enhanced MR RLE*": "emri_small_RLE.dcm",
    "segmentation 1-bit*": "liver.dcm",
    "RT dose grid scaling": "rtdose.dcm",
    "palette colour 8-bit*": "OBXXXX1A.dcm",
    "palette colour 16-bit LUT*": "gdcm-US-ALOKA-16.dcm",
    "palette colour 2 frames big endian*": "OBXXXX1A_expb_2frame.dcm",
    "MONOCHROME1 CR*": "RG3_UNCI.dcm",
    "modality LUT table*": "mlut_18.dcm",
    "YBR_FULL native*": "SC_ybr_full_uncompressed.dcm",
    "YBR_FULL_422 native": "SC_ybr_full_422_uncompressed.dcm",
    "16-bit RGB*": "SC_rgb_16bit.dcm",
    "32-bit RGB 2 frames*": "SC_rgb_32bit_2frame.dcm",
    "big endian": "MR_small_bigendian.dcm",
    "implicit VR": "MR_small_implicit.dcm",
    "deflated": "image_dfl.dcm",
    "CT rescale": "CT_small.dcm",
}


def _per_frame_rescale(ds: pydicom.Dataset, frame: int) -> tuple[float, float] | None:
    """Slope/intercept of a frame from its per-frame group, else the shared group, else None."""
    for owner in (
        ds.get("PerFrameFunctionalGroupsSequence", [None] * (frame + 1))[frame],
        (ds.get("SharedFunctionalGroupsSequence") or [None])[0],
    ):
        if owner is not None and "PixelValueTransformationSequence" in owner:
            item = owner.PixelValueTransformationSequence[0]
            return float(item.RescaleSlope), float(item.RescaleIntercept)
    return None


def expected_frames(path: Path) -> list[np.ndarray]:
    """What OsiriX shows for each frame, computed with pydicom's own functions."""
    ds = pydicom.dcmread(path)
    frames = int(ds.get("NumberOfFrames") or 1)
    photometric = str(ds.PhotometricInterpretation)
    raw = pixel_array(ds, raw=True)
    raw = raw if frames > 1 else raw[None]
    out = []
    for index in range(frames):
        stored = raw[index]
        if photometric == "PALETTE COLOR":
            rgb = apply_color_lut(stored, ds)
            rgb = rgb >> 8 if rgb.dtype == np.uint16 else rgb
            out.append(rgb.astype(np.uint8))
            continue
        if stored.ndim == 3:
            if photometric.startswith("YBR_FULL"):
                stored = convert_color_space(stored, photometric, "RGB")
            bits = int(ds.BitsStored)
            out.append((stored >> (bits - 8) if bits > 8 else stored).astype(np.uint8))
            continue
        rescale = _per_frame_rescale(ds, index)
        if rescale is not None:
            values = stored.astype(np.float64) * rescale[0] + rescale[1]
        else:
            values = np.asarray(apply_modality_lut(stored, ds), dtype=np.float64)
        if ds.get("Modality") == "RTDOSE":
            values = values * float(ds.DoseGridScaling)
        if photometric == "MONOCHROME1":
            values = -values
        out.append(values.astype(np.float32))
    return out


def _relabel(source: Path, target: Path, study: str, series: str) -> None:
    """The file with its own study/series UIDs (pixel data untouched, encapsulated or not)."""
    ds = pydicom.dcmread(source)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.save_as(target)


@pytest.fixture(scope="module")
def kinds_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, dict[str, tuple[str, Path]]]]:
    folder = tmp_path_factory.mktemp("kinds")
    uids = {}
    for number, (kind, name) in enumerate(KINDS.items()):
        source = Path(get_testdata_file(name))
        series = generate_uid()
        target = folder / f"{number:02d}-{name}"
        _relabel(source, target, generate_uid(), series)
        uids[kind] = (series, target)
    with running_host(tmp_path_factory.mktemp("home"), "--empty", "--import", str(folder)) as host:
        yield host, uids


def series_by_uid(host: RunningHost) -> dict[str, tuple[Any, Any]]:
    stub = host.stub()
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    found = {}
    for study in ok(stub.BrowserControllerDatabaseStudies(browser)).studies:
        for series in ok(stub.DicomStudySeries(study)).series:
            uid = ok(stub.DicomSeriesSeriesInstanceUID(series)).series_instance_uid.split(" TE-")[0]
            found[uid] = (study, series)
    return found


def open_series(host: RunningHost, series: Any) -> tuple[Any, list[Any]]:
    stub = host.stub()
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    images = list(ok(stub.DicomSeriesSortedImages(series)).sorted_images)
    request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(
        browser=browser,
        frames=[browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=images)],
    )
    viewer = ok(stub.BrowserControllerOpenViewerFromImages(request)).viewer
    pix = ok(
        stub.ViewerControllerPixList(
            viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=0)
        )
    ).pix
    return viewer, list(pix)


def values_of(host: RunningHost, pix: Any) -> np.ndarray:
    answer = ok(host.stub().DCMPixImage(pix))
    if answer.is_argb:
        return np.asarray(answer.image_data_argb, dtype=np.uint8).reshape(answer.rows, answer.columns, 4)
    return np.asarray(answer.image_data_float, dtype=np.float32).reshape(answer.rows, answer.columns)


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_is_indexed_per_frame_opens_and_shows_pydicom_values(
    kinds_host: tuple[RunningHost, dict[str, tuple[str, Path]]], kind: str
) -> None:
    host, uids = kinds_host
    series_uid, path = uids[kind]
    stub = host.stub()
    study, series = series_by_uid(host)[series_uid]
    expected = expected_frames(path)
    frames = len(expected)
    # indexed: one DicomImage per frame, each saying how many frames its file has
    images = ok(stub.DicomSeriesImages(series)).images
    assert len(images) == frames
    # OsiriX counts no images for a series of a "supported private class", matched by prefix (Horos
    # DicomSeries.m and DicomStudy.m noFiles, DCMAbstractSyntaxUID isSupportedPrivateClasses:): Raw
    # Data Storage's UID (1.2.840.10008.5.1.4.1.1.66) is a prefix of Segmentation Storage's.
    sop_class = str(pydicom.dcmread(path, stop_before_pixels=True).SOPClassUID)
    counted = 0 if sop_class.startswith("1.2.840.10008.5.1.4.1.1.66") else frames
    assert ok(stub.DicomSeriesNumberOfImages(series)).number_of_images == counted
    assert ok(stub.DicomStudyNoFiles(study)).no_files == counted
    assert ok(stub.DicomStudyRawNoFiles(study)).no_files == 1
    assert {ok(stub.DicomImageNumberOfFrames(i)).number_of_frames for i in images} == {frames}
    # opens: one DCMPix per frame, each equal to one frame as pydicom converts it (each frame used once)
    viewer, pix = open_series(host, series)
    assert len(pix) == frames
    unmatched = list(range(frames))
    for plane in pix:
        got = values_of(host, plane)
        if got.ndim == 3:
            assert (got[..., 0] == 255).all()
            got = got[..., 1:4]
        match = next(
            (i for i in unmatched if got.shape == expected[i].shape and np.array_equal(got, expected[i])), None
        )
        assert match is not None, f"{kind}: a plane equals no frame of {path.name}"
        unmatched.remove(match)
    ok(stub.ViewerControllerCloseViewer(viewer))
