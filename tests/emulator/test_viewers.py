"""Viewers, DCMPix, ROIs, ROI volumes and VR controllers of the embedded OsiriX, on the MR phantom,
checked against pixels and tags read independently with pydicom and numpy."""

from __future__ import annotations

import math

import numpy as np
import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2, dcmpix_pb2, roi_pb2, roivolume_pb2, viewercontroller_pb2
from osirixgrpc import vrcontroller_pb2 as vr_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.testing import RunningHost
from osirix_tasks.vocabulary import ROI_TYPES as ROI_CODES
from tests.helpers import ok

VC = viewercontroller_pb2
SPACING = 0.78125


@pytest.fixture(scope="module")
def host(phantom_host: RunningHost) -> RunningHost:
    """This module's tests run on the host that imported the MR phantom."""
    return phantom_host


@pytest.fixture(scope="module")
def planes(phantom_planes: list[pydicom.Dataset]) -> list[pydicom.Dataset]:
    """The phantom's files in OsiriX's plane order."""
    return phantom_planes


def failed(response, message: str | None = None) -> str:  # type: ignore[no-untyped-def]
    assert response.status.status == 0
    if message is not None:
        assert response.status.message == message
    return response.status.message  # type: ignore[no-any-return]


def open_viewer(host: RunningHost, frames: int = 1, reverse: bool = True):  # type: ignore[no-untyped-def]
    stub = host.stub()
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    [study] = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
    [series] = ok(stub.DicomStudySeries(study)).series
    images = list(ok(stub.DicomSeriesImages(series)).images)  # instance-number order
    if reverse:
        images.reverse()
    request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(
        browser=browser,
        movie=frames > 1,
        frames=[
            browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=images)
            for _ in range(frames)
        ],
    )
    return stub, ok(stub.BrowserControllerOpenViewerFromImages(request)).viewer


def pix_of(stub, viewer, slice_index: int = 0, movie_idx: int = 0):  # type: ignore[no-untyped-def]
    request = VC.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=movie_idx)
    return ok(stub.ViewerControllerPixList(request)).pix[slice_index]


def image_of(stub, pix) -> np.ndarray:  # type: ignore[no-untyped-def]
    answer = ok(stub.DCMPixImage(pix))
    if answer.is_argb:
        return np.asarray(answer.image_data_argb).reshape(answer.rows, answer.columns, 4)
    return np.asarray(answer.image_data_float, dtype=np.float32).reshape(answer.rows, answer.columns)


def new_roi(
    stub,
    viewer,
    itype: int,
    *,
    name: str = "r",
    idx: int = 0,
    movie_idx: int = 0,  # type: ignore[no-untyped-def]
    points=None,
    rect=None,
    buffer=None,
    position=(0, 0),
    color=(255, 0, 0),
):
    request = VC.ViewerControllerNewROIRequest(
        viewer_controller=viewer,
        itype=itype,
        name=name,
        idx=idx,
        movie_idx=movie_idx,
        thickness=2.0,
        opacity=0.5,
        color=VC.ViewerControllerNewROIRequest.Color(r=color[0], g=color[1], b=color[2]),
        buffer_position_x=position[0],
        buffer_position_y=position[1],
    )
    if points is not None:
        request.points.extend([VC.ViewerControllerNewROIRequest.Point2D(x=x, y=y) for x, y in points])
    if rect is not None:
        request.rectangle.CopyFrom(
            VC.ViewerControllerNewROIRequest.Rect(origin_x=rect[0], origin_y=rect[1], width=rect[2], height=rect[3])
        )
    if buffer is not None:
        request.buffer.CopyFrom(
            VC.ViewerControllerNewROIRequest.Buffer(
                buffer=buffer.ravel().tolist(), rows=buffer.shape[0], columns=buffer.shape[1]
            )
        )
    return stub.ViewerControllerNewROI(request)


def test_viewer_orders_planes_as_osirix_and_reads_geometry(host: RunningHost, planes: list[pydicom.Dataset]) -> None:
    stub, viewer = open_viewer(host, reverse=True)
    assert ok(stub.OsirixFrontmostViewer(Empty())).viewer_controller.osirixrpc_uid == viewer.osirixrpc_uid
    displayed = ok(stub.OsirixDisplayed2DViewers(Empty())).viewer_controllers
    assert viewer.osirixrpc_uid in [v.osirixrpc_uid for v in displayed]
    pix_list = ok(stub.ViewerControllerPixList(VC.ViewerControllerPixListRequest(viewer_controller=viewer))).pix
    assert len(pix_list) == 40
    for index in (0, 17, 39):
        pix, ds = pix_list[index], planes[index]
        image = image_of(stub, pix)
        assert np.array_equal(image, ds.pixel_array.astype(np.float32))  # no rescale in the phantom
        shape = ok(stub.DCMPixShape(pix))
        assert (shape.rows, shape.columns) == (ds.Rows, ds.Columns)
        spacing = ok(stub.DCMPixSpacing(pix))
        assert (spacing.spacing_rows, spacing.spacing_columns) == tuple(float(v) for v in ds.PixelSpacing)
        origin = ok(stub.DCMPixOrigin(pix))
        assert np.allclose([origin.origin_x, origin.origin_y, origin.origin_z], ds.ImagePositionPatient, atol=1e-4)
        orientation = np.array(ok(stub.DCMPixOrientation(pix)).orientation)
        iop = np.array(ds.ImageOrientationPatient, float)
        assert np.allclose(orientation, [*iop, *np.cross(iop[:3], iop[3:])])
        # DCMPix: the plane centre's coordinate on the dominant normal axis (Horos DCMPix computeSliceLocation)
        centre = (
            np.array(ds.ImagePositionPatient, float)
            + (ds.Rows // 2 - 0.5) * iop[3:] * float(ds.PixelSpacing[0])
            + (ds.Columns // 2 - 0.5) * iop[:3] * float(ds.PixelSpacing[1])
        )
        expected = float(centre[int(np.argmax(np.abs(np.cross(iop[:3], iop[3:]))))])
        assert math.isclose(ok(stub.DCMPixSliceLocation(pix)).slice_location, expected, rel_tol=1e-6)
        image_ref = ok(stub.DCMPixDicomImage(pix)).dicom_image
        assert ok(stub.DicomImageSOPInstanceUID(image_ref)).sop_instance_uid == ds.SOPInstanceUID
        source = ok(stub.DCMPixSourceFile(pix)).source_file
        assert source == ok(stub.DicomImageCompletePath(image_ref)).complete_path
    assert math.isclose(float(image_of(stub, pix_list[0]).mean()), 201.55313, rel_tol=1e-6)
    series = ok(stub.DCMPixDicomSeries(pix_list[0])).dicom_series
    study = ok(stub.DCMPixDicomStudy(pix_list[0])).dicom_study
    assert ok(stub.DicomSeriesStudy(series)).study.osirixrpc_uid == study.osirixrpc_uid
    assert planes[0].InstanceNumber == 40  # plane 0 is IM-0001-0040 (x = +72.098)


def test_viewer_display_state_and_validation(host: RunningHost, planes: list[pydicom.Dataset]) -> None:
    stub, viewer = open_viewer(host)
    title = ok(stub.ViewerControllerTitle(viewer)).title
    assert planes[0].SeriesDescription in title
    assert ok(stub.ViewerControllerModality(viewer)).modality == "MR"
    wlww = ok(stub.ViewerControllerWLWW(viewer))
    assert (wlww.wl, wlww.ww) == (float(planes[0].WindowCenter), float(planes[0].WindowWidth))
    ok(stub.ViewerControllerSetWLWW(VC.ViewerControllerSetWLWWRequest(viewer_controller=viewer, wl=40, ww=400)))
    failed(stub.ViewerControllerSetWLWW(VC.ViewerControllerSetWLWWRequest(viewer_controller=viewer, wl=math.nan, ww=1)))
    wlww = ok(stub.ViewerControllerWLWW(viewer))
    assert (wlww.wl, wlww.ww) == (40, 400)
    ok(stub.ViewerControllerSetIdx(VC.ViewerControllerSetIdxRequest(viewer_controller=viewer, idx=12)))
    failed(
        stub.ViewerControllerSetIdx(VC.ViewerControllerSetIdxRequest(viewer_controller=viewer, idx=40)),
        "Index 40 is out of range",
    )
    assert ok(stub.ViewerControllerIdx(viewer)).idx == 12
    assert ok(stub.ViewerControllerDisplayedIdx(viewer)).displayed_idx == 12
    assert ok(stub.ViewerControllerFlippedData(viewer)).flipped_data is False
    ok(
        stub.ViewerControllerSetDisplayedIdx(
            VC.ViewerControllerSetDisplayedIdxRequest(viewer_controller=viewer, displayed_idx=3)
        )
    )
    assert ok(stub.ViewerControllerIdx(viewer)).idx == 3
    cur = ok(stub.ViewerControllerCurDCM(viewer)).pix
    assert cur.osirixrpc_uid == pix_of(stub, viewer, 3).osirixrpc_uid
    assert "Image 4/40" in ok(stub.ViewerControllerTitle(viewer)).title
    assert (
        ok(
            stub.ViewerControllerIsDataVolumic(VC.ViewerControllerIsDataVolumicRequest(viewer_controller=viewer))
        ).is_volumic
        is True
    )
    ok(stub.ViewerControllerNeedsDisplayUpdate(viewer))
    assert ok(stub.ViewerControllerMaxMovieIdx(viewer)).max_movie_idx == 1


def test_movie_viewer_has_frames(host: RunningHost) -> None:
    stub, viewer = open_viewer(host, frames=2)
    assert ok(stub.ViewerControllerMaxMovieIdx(viewer)).max_movie_idx == 2
    ok(stub.ViewerControllerSetMovieIdx(VC.ViewerControllerSetMovieIdxRequest(viewer_controller=viewer, movie_idx=1)))
    assert ok(stub.ViewerControllerMovieIdx(viewer)).movie_idx == 1
    # The plugin refuses only > max; OsiriX's setMovieIndex: wraps max (= the frame count) around to 0.
    failed(
        stub.ViewerControllerSetMovieIdx(VC.ViewerControllerSetMovieIdxRequest(viewer_controller=viewer, movie_idx=3)),
        "Invalid movie index",
    )
    assert ok(stub.ViewerControllerMovieIdx(viewer)).movie_idx == 1
    ok(stub.ViewerControllerSetMovieIdx(VC.ViewerControllerSetMovieIdxRequest(viewer_controller=viewer, movie_idx=2)))
    assert ok(stub.ViewerControllerMovieIdx(viewer)).movie_idx == 0
    ok(stub.ViewerControllerSetMovieIdx(VC.ViewerControllerSetMovieIdxRequest(viewer_controller=viewer, movie_idx=1)))
    frame1 = ok(
        stub.ViewerControllerPixList(VC.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=1))
    ).pix
    assert len(frame1) == 40 and frame1[0].osirixrpc_uid != pix_of(stub, viewer, 0, 0).osirixrpc_uid
    clamped = ok(
        stub.ViewerControllerPixList(VC.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=5))
    ).pix
    assert [p.osirixrpc_uid for p in clamped] == [p.osirixrpc_uid for p in frame1]  # pixList: clamps
    assert "Frame 2/2" in ok(stub.ViewerControllerTitle(viewer)).title
    assert (
        ok(
            stub.ViewerControllerIsDataVolumic(
                VC.ViewerControllerIsDataVolumicRequest(viewer_controller=viewer, in_4d=True)
            )
        ).is_volumic
        is True
    )
    ok(new_roi(stub, viewer, 6, name="both", idx=1, movie_idx=0, rect=(1, 1, 5, 5)))
    ok(new_roi(stub, viewer, 6, name="both", idx=2, movie_idx=1, rect=(1, 1, 5, 5)))
    in_2d = ok(
        stub.ViewerControllerROIsWithName(
            VC.ViewerControllerROIsWithNameRequest(viewer_controller=viewer, name="both", movie_idx=1)
        )
    ).rois
    in_4d = ok(
        stub.ViewerControllerROIsWithName(
            VC.ViewerControllerROIsWithNameRequest(viewer_controller=viewer, name="both", in_4d=True)
        )
    ).rois
    assert (len(in_2d), len(in_4d)) == (1, 2)


def test_set_image_round_trips_bit_exact_and_refuses_bad_shapes(host: RunningHost) -> None:
    stub, viewer = open_viewer(host)
    pix = pix_of(stub, viewer, 5)
    rng = np.random.default_rng(7)
    values = rng.normal(0, 1e6, size=(320, 320)).astype(np.float32)
    values[0, :4] = [np.float32(-0.0), np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-42]
    request = dcmpix_pb2.DCMPixSetImageRequest(pix=pix)
    request.image_data_float.extend(values.ravel().tolist())
    ok(stub.DCMPixSetImage(request))
    assert image_of(stub, pix).tobytes() == values.tobytes()
    wrong = dcmpix_pb2.DCMPixSetImageRequest(pix=pix, image_data_float=[1.0] * 100)
    failed(stub.DCMPixSetImage(wrong), "Incompatible image shape")
    assert image_of(stub, pix).tobytes() == values.tobytes()


def test_rgb_conversions(host: RunningHost) -> None:
    stub, viewer = open_viewer(host)
    pix = pix_of(stub, viewer, 2)
    grey = image_of(stub, pix)
    failed(
        stub.DCMPixConvertToRGB(dcmpix_pb2.DCMPixConvertToRGBRequest(pix=pix, rgb_channel=7)),
        "Requested RGB type not understood",
    )
    ok(stub.DCMPixConvertToRGB(dcmpix_pb2.DCMPixConvertToRGBRequest(pix=pix, rgb_channel=3)))
    assert ok(stub.DCMPixIsRGB(pix)).is_rgb is True
    argb = image_of(stub, pix)
    # The plugin windows over the plane's own range: level (min+max)/2, width max-min, as integers.
    level, width = int((grey.min() + grey.max()) / 2), int(grey.max() - grey.min())
    low, high = level - width // 2, level + width // 2
    expected = np.floor((np.clip(grey.astype(np.float64), low, high) - low) * 255 / (high - low) + 0.5)
    assert argb.shape == (320, 320, 4)
    for channel in range(4):  # A, R, G, B all take the value (alpha = (R + G + B) / 3)
        assert np.array_equal(argb[..., channel], expected)
    failed(stub.DCMPixConvertToRGB(dcmpix_pb2.DCMPixConvertToRGBRequest(pix=pix, rgb_channel=3)), "Data already RGB")
    failed(
        stub.DCMPixSetImage(dcmpix_pb2.DCMPixSetImageRequest(pix=pix, image_data_float=[0.0] * 102400)),
        "Incompatible image shape",
    )
    mask = ok(new_roi(stub, viewer, 20, idx=2, buffer=np.ones((4, 4), bool))).roi
    failed(
        stub.DCMPixComputeROI(dcmpix_pb2.DCMPixComputeROIRequest(pix=pix, roi=mask)), "No values provided for RGB pix"
    )
    ok(stub.DCMPixConvertToBW(dcmpix_pb2.DCMPixConvertToBWRequest(pix=pix, bw_channel=0)))
    assert ok(stub.DCMPixIsRGB(pix)).is_rgb is False
    assert np.array_equal(image_of(stub, pix), expected.astype(np.float32))
    failed(stub.DCMPixConvertToBW(dcmpix_pb2.DCMPixConvertToBWRequest(pix=pix, bw_channel=3)), "Data already BW")


def test_every_roi_type_is_created_and_read_back(host: RunningHost) -> None:
    stub, viewer = open_viewer(host)
    shapes = {
        5: {"points": [(10, 10), (50, 40)]},
        6: {"rect": (20, 30, 40, 10)},
        9: {"rect": (100, 100, 20, 10)},
        10: {"points": [(1, 1), (30, 5), (20, 40)]},
        11: {"points": [(60, 60), (90, 60), (75, 90)]},
        12: {"points": [(10, 10), (20, 20), (30, 10)]},
        13: {"rect": (150, 150, 0, 0)},
        14: {"points": [(5, 5), (25, 25)]},
        15: {"points": [(200, 200), (230, 200), (230, 230), (200, 230)]},
        19: {"rect": (160, 170, 0, 0)},
        20: {"buffer": np.ones((5, 7), bool), "position": (250, 260)},
        24: {"points": [(1, 300), (20, 300), (20, 319)]},
        26: {"points": [(0, 0), (10, 0), (5, -5), (5, 5)]},
        27: {"points": [(0, 0), (10, 10), (20, 10), (30, 0)]},
        29: {"points": [(0, 0), (10, 5), (0, 0), (30, -5), (0, 0), (40, 0)]},
        31: {"rect": (80, 200, 10, 10)},
    }
    assert set(shapes) == set(ROI_CODES)
    for itype, shape in shapes.items():
        roi = ok(new_roi(stub, viewer, itype, name=f"type {itype}", idx=4, **shape)).roi
        assert ok(stub.ROIIType(roi)).itype == itype
        assert ok(stub.ROIName(roi)).name == f"type {itype}"
        color = ok(stub.ROIColor(roi))
        assert (color.r, color.g, color.b) == (255, 0, 0)
        assert ok(stub.ROIOpacity(roi)).opacity == 0.5 and ok(stub.ROIThickness(roi)).thickness == 2.0
        points = np.array([(p.x, p.y) for p in ok(stub.ROIPoints(roi)).points])
        if "points" in shape and itype != 29:
            assert np.allclose(points, shape["points"])
        if itype == 29:  # ROI.m -valid: points 0 and 2 become the projections of points 1 and 3 on line 4-5
            assert np.allclose(points, [(10, 0), (10, 5), (30, 0), (30, -5), (0, 0), (40, 0)])
        if itype == 13:  # ROI.m -points: a text ROI has no vertices
            assert len(points) == 0
        if itype == 19:
            assert np.allclose(points, [shape["rect"][:2]])
        if itype == 6:  # ROI.m -points: (minX, minY), (minX, maxY), (maxX, maxY), (maxX, minY)
            assert np.allclose(points, [(20, 30), (20, 40), (60, 40), (60, 30)])
        if itype == 9:  # 200 vertices on the ellipse around the centre
            assert len(points) == 200 and np.allclose(points[0], (120, 100)) and np.allclose(points[50], (100, 110))
        assert ok(stub.ROIPix(roi)).pix.osirixrpc_uid == pix_of(stub, viewer, 4).osirixrpc_uid
    listing = ok(stub.ViewerControllerROIList(VC.ViewerControllerROIListRequest(viewer_controller=viewer))).roi_slices
    assert len(listing) == 40 and len(listing[4].rois) == len(shapes) and len(listing[3].rois) == 0


@pytest.mark.parametrize(
    ("itype", "shape"),
    [
        (99, {"points": [(1, 1), (2, 2)]}),
        (30, {"points": [(1, 1), (2, 2)]}),
        (5, {"points": [(1, 1)]}),
        (29, {"points": [(1, 1), (2, 2)]}),
        (11, {"points": [(1, 1), (math.nan, 2), (3, 3)]}),
        (6, {"rect": (1, 1, 0, 5)}),
        (9, {"rect": (1, 1, math.inf, 5)}),
        (20, {"buffer": np.zeros((2, 2), bool)}),
    ],
)
def test_invalid_rois_are_refused_and_nothing_changes(host: RunningHost, itype: int, shape: dict) -> None:  # type: ignore[type-arg]
    stub, viewer = open_viewer(host)
    message = failed(new_roi(stub, viewer, itype, idx=0, **shape))
    assert message.startswith("Could not create ROI")
    failed(new_roi(stub, viewer, 6, idx=40, rect=(1, 1, 2, 2)))
    listing = ok(stub.ViewerControllerROIList(VC.ViewerControllerROIListRequest(viewer_controller=viewer))).roi_slices
    assert sum(len(s.rois) for s in listing) == 0


def test_mismatched_buffer_is_refused(host: RunningHost) -> None:
    stub, viewer = open_viewer(host)
    request = VC.ViewerControllerNewROIRequest(
        viewer_controller=viewer,
        itype=20,
        buffer=VC.ViewerControllerNewROIRequest.Buffer(buffer=[True] * 10, rows=3, columns=3),
    )
    failed(stub.ViewerControllerNewROI(request), "Could not create ROI")


def test_statistics_match_numpy(host: RunningHost, planes: list[pydicom.Dataset]) -> None:
    stub, viewer = open_viewer(host)
    pix = pix_of(stub, viewer, 0)
    pixels = planes[0].pixel_array.astype(np.float64)
    mask_roi = ok(new_roi(stub, viewer, 20, idx=0, buffer=np.ones((40, 40), bool))).roi
    stats = ok(stub.DCMPixComputeROI(dcmpix_pb2.DCMPixComputeROIRequest(pix=pix, roi=mask_roi)))
    reference = {"mean": 0.525, "total": 840, "std_dev": 0.60467, "max": 3, "skewness": 0.77747, "kurtosis": 0.06178}
    for key, value in reference.items():
        assert math.isclose(getattr(stats, key), value, rel_tol=1e-4), key
    area = ok(stub.ROIArea(mask_roi)).area
    assert math.isclose(area, 1600 * SPACING**2 / 100, rel_tol=1e-6)
    mapping = ok(stub.DCMPixGetMapFromROI(dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=pix, roi=mask_roi)))
    assert (mapping.rows, mapping.columns) == (320, 320) and sum(mapping.map) == 1600

    rect = ok(new_roi(stub, viewer, 6, idx=0, rect=(100, 120, 30, 20))).roi
    inside = pixels[120:140, 100:130]
    stats = ok(stub.DCMPixComputeROI(dcmpix_pb2.DCMPixComputeROIRequest(pix=pix, roi=rect)))
    n, mean = inside.size, inside.mean()
    v_p, v_s = inside.var(), inside.var(ddof=1)
    assert math.isclose(stats.mean, mean, rel_tol=1e-6) and stats.total == inside.sum()
    assert math.isclose(stats.std_dev, math.sqrt(v_p), rel_tol=1e-5)
    assert (stats.min, stats.max) == (inside.min(), inside.max())
    assert math.isclose(stats.skewness, ((inside - mean) ** 3).sum() / n / (v_p * math.sqrt(v_s)), rel_tol=1e-4)
    assert math.isclose(stats.kurtosis, ((inside - mean) ** 4).sum() / n / (v_p * v_s) - 3, rel_tol=1e-4)
    values = ok(stub.DCMPixROIValues(dcmpix_pb2.DCMPixROIValuesRequest(pix=pix, roi=rect)))
    rows, columns = np.array(values.row_indices), np.array(values.column_indices)
    assert len(values.values) == 600 and (rows.min(), rows.max(), columns.min(), columns.max()) == (120, 139, 100, 129)
    assert np.array_equal(np.array(values.values), pixels[rows, columns])
    assert math.isclose(ok(stub.ROIArea(rect)).area, 600 * SPACING**2 / 100, rel_tol=1e-6)
    oval = ok(new_roi(stub, viewer, 9, idx=0, rect=(160, 160, 20, 10))).roi
    assert math.isclose(ok(stub.ROIArea(oval)).area, math.pi * 200 * SPACING**2 / 100, rel_tol=0.01)
    centroid = ok(stub.ROICentroid(oval))
    assert math.isclose(centroid.x, 160, abs_tol=1e-6) and math.isclose(centroid.y, 160, abs_tol=1e-6)


def test_roi_edits(host: RunningHost) -> None:
    stub, viewer = open_viewer(host)
    roi = ok(new_roi(stub, viewer, 11, idx=0, points=[(10, 10), (30, 10), (30, 20)])).roi

    def points() -> np.ndarray:
        return np.array([(p.x, p.y) for p in ok(stub.ROIPoints(roi)).points])

    ok(stub.ROIMove(roi_pb2.ROIMoveRequest(roi=roi, columns=5, rows=-2)))
    assert np.allclose(points(), [(15, 8), (35, 8), (35, 18)])
    ok(stub.ROIRotate(roi_pb2.ROIRotateRequest(roi=roi, degrees=90, x=15, y=8)))
    assert np.allclose(points(), [(15, 8), (15, 28), (5, 28)], atol=1e-9)
    before = points()
    ok(stub.ROIFlipHorizontally(roi))  # mirrored about the centroid (mean of the vertices)
    assert np.allclose(points(), np.column_stack([2 * before[:, 0].mean() - before[:, 0], before[:, 1]]), atol=1e-5)
    before = points()
    ok(stub.ROIFlipVertically(roi))
    assert np.allclose(points(), np.column_stack([before[:, 0], 2 * before[:, 1].mean() - before[:, 1]]), atol=1e-5)
    failed(stub.ROIMove(roi_pb2.ROIMoveRequest(roi=roi, columns=math.nan, rows=0)))
    request = roi_pb2.ROISetPointsRequest(
        roi=roi, points=[roi_pb2.ROISetPointsRequest.Point2D(x=1, y=2), roi_pb2.ROISetPointsRequest.Point2D(x=3, y=4)]
    )
    ok(stub.ROISetPoints(request))
    assert np.allclose(points(), [(1, 2), (3, 4)])
    ok(stub.ROISetName(roi_pb2.ROISetNameRequest(roi=roi, name="renamed")))
    ok(stub.ROISetColor(roi_pb2.ROISetColorRequest(roi=roi, r=300, g=-5, b=7)))
    ok(stub.ROISetOpacity(roi_pb2.ROISetOpacityRequest(roi=roi, opacity=0.25)))
    ok(stub.ROISetThickness(roi_pb2.ROISetThicknessRequest(roi=roi, thickness=3)))
    color = ok(stub.ROIColor(roi))
    assert (ok(stub.ROIName(roi)).name, color.r, color.g, color.b) == ("renamed", 255, 0, 7)
    assert (ok(stub.ROIOpacity(roi)).opacity, ok(stub.ROIThickness(roi)).thickness) == (0.25, 3)
    ok(stub.ROIDelete(roi))
    failed(stub.ROIName(roi), "No ROI cached")
    listing = ok(stub.ViewerControllerROIList(VC.ViewerControllerROIListRequest(viewer_controller=viewer))).roi_slices
    assert len(listing[0].rois) == 0


def test_user_selects_rois(host: RunningHost) -> None:
    stub, viewer = open_viewer(host)
    assert list(ok(stub.ViewerControllerSelectedROIs(viewer)).rois) == []  # new ROIs start unselected
    roi = ok(new_roi(stub, viewer, 6, name="lesion", idx=3, rect=(5, 5, 10, 10))).roi
    ok(new_roi(stub, viewer, 6, name="other", idx=3, rect=(50, 5, 10, 10)))
    ok(new_roi(stub, viewer, 6, name="lesion", idx=4, rect=(5, 5, 10, 10)))
    done = host.cli("select", "--roi", "lesion")
    assert done.returncode == 0, done.stderr
    # OsiriX selects on the displayed slice: the first slice holding 'lesion' is shown and its one selected
    assert ok(stub.ViewerControllerIdx(viewer)).idx == 3 and "showing image 4" in done.stdout  # index 3 = image 4
    assert [r.osirixrpc_uid for r in ok(stub.ViewerControllerSelectedROIs(viewer)).rois] == [roi.osirixrpc_uid]
    ok(stub.ViewerControllerSetIdx(VC.ViewerControllerSetIdxRequest(viewer_controller=viewer, idx=4)))
    assert list(ok(stub.ViewerControllerSelectedROIs(viewer)).rois) == []  # the one on slice 4 is not selected
    missing = host.cli("select", "--roi", "nothing-called-this")
    assert missing.returncode == 1 and "no ROI named 'nothing-called-this'" in missing.stderr


def test_roi_volumes_and_vr_controllers(host: RunningHost, planes: list[pydicom.Dataset]) -> None:
    stub, viewer = open_viewer(host)
    sizes = {10: 200, 11: 150, 12: 120}
    for index, count in sizes.items():  # brush ROIs: their area is their pixel count (ROI.m -plainArea)
        ok(new_roi(stub, viewer, 20, name="organ", idx=index, buffer=np.ones((count // 10, 10), bool)))
    ok(new_roi(stub, viewer, 6, name="frame", idx=10, rect=(10, 10, 5, 5)))  # rectangles make no volume
    failed(
        stub.ViewerControllerOpenVRViewerForMode(
            VC.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=viewer, mode="XR")
        ),
        "Unavailable mode",
    )
    vr = ok(
        stub.ViewerControllerOpenVRViewerForMode(
            VC.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=viewer, mode="VR")
        )
    ).vr_controller
    assert ok(stub.OsirixFrontmostVRController(Empty())).vr_controller.osirixrpc_uid == vr.osirixrpc_uid
    displayed = ok(stub.OsirixDisplayedVRControllers(Empty())).vr_controllers
    assert vr.osirixrpc_uid in [v.osirixrpc_uid for v in displayed]
    owned = ok(stub.ViewerControllerVRControllers(viewer)).vr_controllers
    assert [v.osirixrpc_uid for v in owned] == [vr.osirixrpc_uid]
    assert ok(stub.VRControllerViewer2D(vr)).viewer_controller.osirixrpc_uid == viewer.osirixrpc_uid
    assert ok(stub.VRControllerStyle(vr)).style == "standard"
    assert ok(stub.VRControllerTitle(vr)).title.startswith("3D Reconstruction:")
    assert ok(stub.VRControllerRenderingMode(vr)).rendering_mode == "VR"
    again = ok(
        stub.ViewerControllerOpenVRViewerForMode(
            VC.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=viewer, mode="MIP")
        )
    ).vr_controller  # the plugin reuses the viewer's 3D window
    assert again.osirixrpc_uid == vr.osirixrpc_uid
    assert ok(stub.VRControllerRenderingMode(vr)).rendering_mode == "MIP"
    ok(
        stub.VRControllerSetRenderingMode(
            vr_pb2.VRControllerSetRenderingModeRequest(vr_controller=vr, rendering_mode="VR")
        )
    )
    failed(
        stub.VRControllerSetRenderingMode(
            vr_pb2.VRControllerSetRenderingModeRequest(vr_controller=vr, rendering_mode="Surface")
        ),
        "Invalid rendering mode",
    )
    assert ok(stub.VRControllerRenderingMode(vr)).rendering_mode == "VR"
    ok(stub.VRControllerSetWLWW(vr_pb2.VRControllerSetWLWWRequest(vr_controller=vr, wl=10, ww=20)))
    wlww = ok(stub.VRControllerWLWW(vr))
    assert (wlww.wl, wlww.ww) == (10, 20)
    ok(stub.VRControllerNeedsDisplayUpdate(vr))
    assert not ok(stub.VRControllerBlendingController(vr)).HasField("viewer_controller")  # none: status 1

    [volume] = ok(stub.VRControllerROIVolumes(vr)).roi_volumes
    assert ok(stub.ROIVolumeName(volume)).name == "organ"
    # ROIVolume.mm: trapezoids between consecutive slices in the viewer's order, cm x cm2.
    locations = [ok(stub.DCMPixSliceLocation(pix_of(stub, viewer, i))).slice_location for i in sizes]
    assert np.allclose(locations, [float(planes[i].ImagePositionPatient[0]) for i in sizes], atol=1e-3)
    areas = [
        count * float(planes[0].PixelSpacing[0]) * float(planes[0].PixelSpacing[1]) / 100 for count in sizes.values()
    ]
    expected = sum((locations[k] - locations[k - 1]) / 10 * (areas[k] + areas[k - 1]) / 2 for k in (1, 2))
    assert expected < 0  # the planes run towards -x in the viewer's order, so the volume is negative
    assert math.isclose(ok(stub.ROIVolumeVolume(volume)).volume, expected, rel_tol=1e-5)
    color = ok(stub.ROIVolumeColor(volume))
    assert (color.r, color.g, color.b) == (0, 1, 1)  # ROIVolume's own default colour
    assert ok(stub.ROIVolumeVisible(volume)).visible is False
    ok(
        stub.VRControllerDisplayROIVolume(
            vr_pb2.VRControllerDisplayROIVolumeRequest(vr_controller=vr, roi_volume=volume)
        )
    )
    assert ok(stub.ROIVolumeVisible(volume)).visible is True
    ok(stub.VRControllerHideROIVolume(vr_pb2.VRControllerHideROIVolumeRequest(vr_controller=vr, roi_volume=volume)))
    assert ok(stub.ROIVolumeVisible(volume)).visible is False
    ok(stub.ROIVolumeSetColor(roivolume_pb2.ROIVolumeSetColorRequest(roi=volume, r=1, g=0.5, b=0)))
    ok(stub.ROIVolumeSetOpacity(roivolume_pb2.ROIVolumeSetOpacityRequest(roi=volume, opacity=0.3)))
    ok(stub.ROIVolumeSetFactor(roivolume_pb2.ROIVolumeSetFactorRequest(roi=volume, factor=0.7)))
    ok(stub.ROIVolumeSetTexture(roivolume_pb2.ROIVolumeSetTextureRequest(roi=volume, texture=False)))
    failed(stub.ROIVolumeSetOpacity(roivolume_pb2.ROIVolumeSetOpacityRequest(roi=volume, opacity=math.nan)))
    color = ok(stub.ROIVolumeColor(volume))
    assert (color.r, color.g, color.b) == (1, 0.5, 0)
    assert math.isclose(ok(stub.ROIVolumeOpacity(volume)).opacity, 0.3, rel_tol=1e-6)
    assert math.isclose(ok(stub.ROIVolumeFactor(volume)).factor, 0.7, rel_tol=1e-6)
    assert ok(stub.ROIVolumeTexture(volume)).texture is False
    assert ok(stub.VRControllerROIVolumes(vr)).roi_volumes[0].osirixrpc_uid == volume.osirixrpc_uid

    stub2, other = open_viewer(host)
    ok(
        stub.ViewerControllerFuseWithViewer(
            VC.ViewerControllerFuseWithViewerRequest(viewer_controller=viewer, fusion_viewer_controller=other)
        )
    )
    assert ok(stub.ViewerControllerBlendingController(viewer)).blending_viewer.osirixrpc_uid == other.osirixrpc_uid
    # The 3D window took its blending viewer when it opened, before the fusion.
    assert not ok(stub.VRControllerBlendingController(vr)).HasField("viewer_controller")
    ok(
        stub.ViewerControllerFuseWithViewer(
            VC.ViewerControllerFuseWithViewerRequest(viewer_controller=viewer, fusion_viewer_controller=viewer)
        )
    )  # ActivateBlending: itself is ignored
    assert ok(stub.ViewerControllerBlendingController(viewer)).blending_viewer.osirixrpc_uid == other.osirixrpc_uid

    ok(stub.ViewerControllerCloseViewer(viewer))
    for answer in (stub.VRControllerTitle(vr), stub.ROIVolumeName(volume), stub.ViewerControllerTitle(viewer)):
        assert failed(answer).startswith("No ")
    displayed = ok(stub.OsirixDisplayedVRControllers(Empty())).vr_controllers
    assert vr.osirixrpc_uid not in [v.osirixrpc_uid for v in displayed]


def test_copy_resample_and_close(host: RunningHost) -> None:
    stub, viewer = open_viewer(host)
    ok(new_roi(stub, viewer, 6, name="kept", idx=1, rect=(1, 1, 4, 4)))
    copy = ok(stub.ViewerControllerCopyViewerWindow(viewer)).viewer_controller
    assert copy.osirixrpc_uid != viewer.osirixrpc_uid
    assert ok(stub.OsirixFrontmostViewer(Empty())).viewer_controller.osirixrpc_uid == copy.osirixrpc_uid
    original_pix, copy_pix = pix_of(stub, viewer, 6), pix_of(stub, copy, 6)
    before = image_of(stub, original_pix)
    assert np.array_equal(image_of(stub, copy_pix), before)
    request = dcmpix_pb2.DCMPixSetImageRequest(pix=copy_pix)
    request.image_data_float.extend([0.0] * before.size)
    ok(stub.DCMPixSetImage(request))
    assert np.array_equal(image_of(stub, original_pix), before)  # the copy owns its pixels
    names = ok(
        stub.ViewerControllerROIsWithName(VC.ViewerControllerROIsWithNameRequest(viewer_controller=copy, name="kept"))
    ).rois
    assert len(names) == 0  # copyViewerWindow deletes the copy's ROIs

    originals = [image_of(stub, pix_of(stub, viewer, index)) for index in (0, 20, 39)]
    resampled = ok(
        stub.ViewerControllerResampleViewerController(
            VC.ViewerControllerResampleViewerControllerRequest(viewer_controller=viewer, fixed_viewer_controller=viewer)
        )
    ).resampled_viewer
    for index, original in zip((0, 20, 39), originals, strict=True):
        assert np.allclose(image_of(stub, pix_of(stub, resampled, index)), original, atol=1e-3)
    failed(stub.ViewerControllerIdx(viewer), "No ViewerController cached")  # the moving viewer was replaced
    pix = pix_of(stub, copy, 0)
    ok(stub.ViewerControllerCloseViewer(copy))
    failed(stub.DCMPixImage(pix), "No DCMPix cached")
    failed(stub.ViewerControllerIdx(copy), "No ViewerController cached")
    displayed = [v.osirixrpc_uid for v in ok(stub.OsirixDisplayed2DViewers(Empty())).viewer_controllers]
    assert copy.osirixrpc_uid not in displayed and resampled.osirixrpc_uid in displayed
