"""OsiriX's ROI areas and ROI volumes (Horos ``ROI.m`` and ``ROIVolume.mm``) on the MR phantom.

Expected values are computed here from the phantom's tags with numpy: the spline that OsiriX
measures polygons and pencils through is set up as the dense linear system it solves (ROI.m solves
it with a tridiagonal sweep), areas come from the shoelace formula, volumes from the slice
positions read with pydicom.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2, roi_pb2, viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.testing import RunningHost
from tests.helpers import ok, reference_spline

VC = viewercontroller_pb2


@pytest.fixture(scope="module")
def host(phantom_host: RunningHost) -> RunningHost:
    """This module's tests run on the host that imported the MR phantom."""
    return phantom_host


@pytest.fixture(scope="module")
def planes(phantom_dir: Path) -> list[pydicom.Dataset]:
    """The phantom in OsiriX's plane order (ascending along the normal -x)."""
    files = [pydicom.dcmread(p, stop_before_pixels=True) for p in phantom_dir.glob("*.dcm")]
    return sorted(files, key=lambda d: -float(d.ImagePositionPatient[0]))


@pytest.fixture(scope="module")
def cm2_per_pixel(planes: list[pydicom.Dataset]) -> float:
    rows, columns = (float(v) for v in planes[0].PixelSpacing)
    return rows * columns / 100


def open_viewer(host: RunningHost):  # type: ignore[no-untyped-def]
    stub = host.stub()
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    [study] = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
    [series] = ok(stub.DicomStudySeries(study)).series
    images = ok(stub.DicomSeriesSortedImages(series)).sorted_images
    frame = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=images)
    request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(browser=browser, frames=[frame])
    return stub, ok(stub.BrowserControllerOpenViewerFromImages(request)).viewer


def make_roi(stub, viewer, itype: int, *, idx: int = 0, points=None, rect=None, mask=None, name: str = "r"):  # type: ignore[no-untyped-def]
    request = VC.ViewerControllerNewROIRequest(
        viewer_controller=viewer, itype=itype, idx=idx, name=name, thickness=1, opacity=1
    )
    if points is not None:
        request.points.extend([VC.ViewerControllerNewROIRequest.Point2D(x=x, y=y) for x, y in points])
    if rect is not None:
        request.rectangle.CopyFrom(
            VC.ViewerControllerNewROIRequest.Rect(origin_x=rect[0], origin_y=rect[1], width=rect[2], height=rect[3])
        )
    if mask is not None:
        request.buffer.CopyFrom(
            VC.ViewerControllerNewROIRequest.Buffer(
                rows=mask.shape[0], columns=mask.shape[1], buffer=mask.ravel().tolist()
            )
        )
    return ok(stub.ViewerControllerNewROI(request)).roi


def shoelace(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


SQUARE = [(100.0, 100.0), (160.0, 100.0), (160.0, 160.0), (100.0, 160.0)]
BLOB = [(50.0, 50.0), (90.0, 40.0), (120.0, 70.0), (100.0, 110.0), (60.0, 100.0)]


def test_spline_areas_of_pencil_and_polygons(host: RunningHost, cm2_per_pixel: float) -> None:
    stub, viewer = open_viewer(host)
    for itype, vertices, closed in ((11, SQUARE, True), (15, BLOB, True), (10, BLOB, False)):
        roi = make_roi(stub, viewer, itype, points=vertices)
        expected = shoelace(reference_spline(vertices, closed)) * cm2_per_pixel
        assert math.isclose(ok(stub.ROIArea(roi)).area, expected, rel_tol=1e-5), itype
        assert not math.isclose(expected, shoelace(np.array(vertices)) * cm2_per_pixel, rel_tol=1e-3)
        points = [(p.x, p.y) for p in ok(stub.ROIPoints(roi)).points]
        assert np.allclose(points, vertices)  # the ROI keeps its points; only the measure is splined
    # The spline of a square bulges out: its area lies between the square's and the circumscribed circle's.
    square = make_roi(stub, viewer, 11, points=SQUARE)
    area = ok(stub.ROIArea(square)).area / cm2_per_pixel
    assert 3600 < area < math.pi * 1800


def test_areas_of_the_other_types(host: RunningHost, cm2_per_pixel: float) -> None:
    stub, viewer = open_viewer(host)
    mask = np.zeros((30, 40), bool)
    mask[3:20, 5:31] = True
    mask[25, 0] = True
    oval_vertices = 200  # ROI.m CIRCLERESOLUTION
    expected = {  # ROI.m -Area: pixel count for a brush, else the shoelace area of -points
        20: (dict(mask=mask), mask.sum()),
        6: (dict(rect=(20, 30, 40, -10)), 400),  # -valid flips a negative height
        9: (dict(rect=(100, 100, 30, 12)), oval_vertices / 2 * 30 * 12 * math.sin(2 * math.pi / oval_vertices)),
        12: (dict(points=[(10, 10), (40, 10), (10, 50)]), 600),  # the triangle of an angle's three points
        26: (dict(points=[(0, 0), (20, 0), (20, 10), (0, 10)]), 200),
        27: (dict(points=[(0, 0), (20, 0), (20, 10), (0, 10)]), 200),
        5: (dict(points=[(10, 10), (50, 40)]), 0),
        14: (dict(points=[(10, 10), (50, 40)]), 0),
        13: (dict(rect=(150, 150, 0, 0)), 0),
        19: (dict(rect=(160, 170, 0, 0)), 0),
    }
    for itype, (shape, pixels) in expected.items():
        roi = make_roi(stub, viewer, itype, **shape)  # type: ignore[arg-type]
        assert math.isclose(ok(stub.ROIArea(roi)).area, pixels * cm2_per_pixel, rel_tol=1e-5, abs_tol=1e-9), itype
    rect = make_roi(stub, viewer, 6, rect=(20, 30, 40, 10))
    oval = make_roi(stub, viewer, 9, rect=(100, 110, 30, 12))
    for roi, origin in ((rect, (20, 30)), (oval, (100, 110))):  # ROI.m -centroid: the rect's origin
        centroid = ok(stub.ROICentroid(roi))
        assert (centroid.x, centroid.y) == origin


def test_rotating_a_rectangle_makes_an_unsplined_polygon(host: RunningHost, cm2_per_pixel: float) -> None:
    stub, viewer = open_viewer(host)
    rect = make_roi(stub, viewer, 6, rect=(20, 30, 40, 10))
    ok(stub.ROIRotate(roi_pb2.ROIRotateRequest(roi=rect, degrees=30, x=40, y=35)))
    assert ok(stub.ROIIType(rect)).itype == 11  # ROI.m -rotate:: turns rectangles into closed polygons
    assert math.isclose(ok(stub.ROIArea(rect)).area, 400 * cm2_per_pixel, rel_tol=1e-5)  # and stops splining
    oval = make_roi(stub, viewer, 9, rect=(100, 100, 30, 12))
    ok(stub.ROIFlipVertically(oval))
    assert ok(stub.ROIIType(oval)).itype == 11
    points = np.array([(p.x, p.y) for p in ok(stub.ROIPoints(oval)).points])
    assert len(points) == 200
    splined = shoelace(reference_spline([tuple(p) for p in points], closed=True))
    assert math.isclose(ok(stub.ROIArea(oval)).area, splined * cm2_per_pixel, rel_tol=1e-5)


def test_roi_volume_integrates_slices_in_viewer_order(
    host: RunningHost, planes: list[pydicom.Dataset], cm2_per_pixel: float
) -> None:
    stub, viewer = open_viewer(host)
    shapes = {10: SQUARE, 11: BLOB, 13: SQUARE}  # slice 12 has none: the trapezoid spans 11 -> 13
    for idx, vertices in shapes.items():
        make_roi(stub, viewer, 11, idx=idx, points=vertices, name="organ")
    make_roi(stub, viewer, 9, idx=12, rect=(100, 100, 30, 12), name="organ")  # ovals do not count
    vr = ok(
        stub.ViewerControllerOpenVRViewerForMode(
            VC.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=viewer, mode="VR")
        )
    ).vr_controller
    [volume] = ok(stub.VRControllerROIVolumes(vr)).roi_volumes
    areas = [shoelace(reference_spline(v, True)) * cm2_per_pixel for v in shapes.values()]
    locations = [float(planes[i].ImagePositionPatient[0]) for i in shapes]  # DCMPix slice location (x, sagittal)
    expected = sum((locations[k] - locations[k - 1]) / 10 * (areas[k] + areas[k - 1]) / 2 for k in (1, 2))
    assert expected < 0  # x decreases along the viewer's order, and the sign follows it
    assert math.isclose(ok(stub.ROIVolumeVolume(volume)).volume, expected, rel_tol=1e-5)
