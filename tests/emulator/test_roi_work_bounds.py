"""Issue 18 item 4a: the work and memory of every ROI computation are bounded by the plane and the
number of vertices, and what is refused is answered with status 0 in the plugin's style.

A real host (``osirix-tasks serve --demo``, 128 x 128 planes) is driven through the protocol; its
peak resident memory is read from /proc (``VmHWM``, Linux). Before the bounds, one closed polygon
with vertices (0, 0), (L, 0), (0, L) followed by ``ROIArea`` cost 25 s and +2.8 GB at L = 1e6 and
killed the host at L = 3e6; the spline, the pixel masks and the statistics grew with L.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from osirixgrpc import dcmpix_pb2, roi_pb2, viewercontroller_pb2

from osirix_tasks.client import Connection
from osirix_tasks.client.viewer_tools import open_series
from osirix_tasks.testing import RunningHost, running_host
from tests.helpers import float32_area, ok, proc_status_mb, reference_spline

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/status")

VC = viewercontroller_pb2
#: What the host may grow by, at its peak, while it refuses or computes these ROIs.
ALLOWED_PEAK_GROWTH_MB = 150


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, Any, Any]]:
    """A fresh demo host of this module's own (its memory peak is ours to read), a viewer and a stub."""
    with running_host(tmp_path_factory.mktemp("home"), "--demo") as host, Connection(host.address) as connection:
        yield host, host.stub(), open_series(connection)


def new_roi(stub: Any, viewer: Any, itype: int, points: list[tuple[float, float]]) -> Any:
    request = VC.ViewerControllerNewROIRequest(
        viewer_controller=viewer, itype=itype, idx=0, name="huge", thickness=1, opacity=1
    )
    request.points.extend([VC.ViewerControllerNewROIRequest.Point2D(x=x, y=y) for x, y in points])
    return stub.ViewerControllerNewROI(request)


def every_computation(stub: Any, roi: Any) -> dict[str, Any]:
    """Every RPC that computes something from an ROI's shape, answered."""
    pix = ok(stub.ROIPix(roi)).pix
    return {
        "ROIArea": stub.ROIArea(roi),
        "ROICentroid": stub.ROICentroid(roi),
        "ROIPoints": stub.ROIPoints(roi),
        "DCMPixComputeROI": stub.DCMPixComputeROI(dcmpix_pb2.DCMPixComputeROIRequest(pix=pix, roi=roi)),
        "DCMPixROIValues": stub.DCMPixROIValues(dcmpix_pb2.DCMPixROIValuesRequest(pix=pix, roi=roi)),
        "DCMPixGetMapFromROI": stub.DCMPixGetMapFromROI(dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=pix, roi=roi)),
    }


@pytest.mark.parametrize("length", [1e6, 3e6, 1e12])
def test_a_huge_polygon_is_refused_by_every_computation_and_the_host_stays_small(
    demo: tuple[RunningHost, Any, Any], length: float
) -> None:
    host, stub, viewer = demo
    pid = host.process.pid
    before = proc_status_mb(pid)
    roi = ok(new_roi(stub, viewer, 11, [(0, 0), (length, 0), (0, length)])).roi

    answers = every_computation(stub, roi)

    for rpc in ("ROIArea", "DCMPixComputeROI", "DCMPixROIValues"):
        status = answers[rpc].status
        assert status.status == 0, (rpc, str(answers[rpc])[:200])
        assert "ROI 'huge'" in status.message and "points" in status.message, (rpc, status.message)
        assert "Error" not in status.message, (rpc, status.message)  # no Python exception text
    # The vertices themselves (ROIPoints, centroid) and the raw-vertex map stay cheap and are answered.
    far = float(np.float32(length))  # the protocol's points are floats
    assert [(p.x, p.y) for p in ok(answers["ROIPoints"]).points] == [(0, 0), (far, 0), (0, far)]
    assert ok(answers["ROICentroid"]).x == pytest.approx(length / 3, rel=1e-6)
    shape = ok(answers["DCMPixGetMapFromROI"])
    mask = np.array(shape.map).reshape(shape.rows, shape.columns)
    assert mask[1:, 1:].all() and not mask[0].any() and not mask[:, 0].any()
    assert host.process.poll() is None
    assert proc_status_mb(pid) - before < ALLOWED_PEAK_GROWTH_MB
    ok(stub.ROIDelete(roi))


def test_a_large_polygon_below_the_bounds_is_measured_as_osirix_does_in_bounded_memory(
    demo: tuple[RunningHost, Any, Any],
) -> None:
    host, stub, viewer = demo
    pid = host.process.pid
    before = proc_status_mb(pid)
    length = 50_000.0  # about 850,000 spline points: under the bound, far beyond any real ROI
    roi = ok(new_roi(stub, viewer, 11, [(0, 0), (length, 0), (0, length)])).roi

    area_cm2 = ok(stub.ROIArea(roi)).area
    stats = ok(stub.DCMPixComputeROI(dcmpix_pb2.DCMPixComputeROIRequest(pix=ok(stub.ROIPix(roi)).pix, roi=roi)))

    curve = reference_spline([(0, 0), (length, 0), (0, length)], closed=True)
    spacing = 1.5  # the demo series' PixelSpacing
    # the plugin: float area = [roi areaPix] * pixelSpacingX * pixelSpacingY / 100.0 (doubles, kept as a float)
    expected = np.float32(float32_area(curve) * spacing * spacing / 100.0)
    assert np.float32(area_cm2) == expected
    assert stats.max > stats.min  # the whole plane lies inside: its values are read
    assert proc_status_mb(pid) - before < ALLOWED_PEAK_GROWTH_MB
    ok(stub.ROIDelete(roi))


@pytest.mark.slow  # a million points sent twice
def test_too_many_vertices_are_refused_when_the_roi_is_created_or_its_points_are_set(
    demo: tuple[RunningHost, Any, Any],
) -> None:
    host, stub, viewer = demo
    many = [(float(i % 200), float(i // 200 % 200)) for i in range(1_000_001)]

    created = new_roi(stub, viewer, 11, many)
    assert created.status.status == 0
    assert created.status.message.startswith("Could not create ROI: 1,000,001 points")

    roi = ok(new_roi(stub, viewer, 11, [(10, 10), (50, 10), (10, 50)])).roi
    request = roi_pb2.ROISetPointsRequest(roi=roi)
    request.points.extend([roi_pb2.ROISetPointsRequest.Point2D(x=x, y=y) for x, y in many])
    refused = stub.ROISetPoints(request)
    assert refused.status.status == 0 and "1,000,001 points" in refused.status.message
    assert len(ok(stub.ROIPoints(roi)).points) == 3  # the ROI is unchanged
    ok(stub.ROIDelete(roi))


def test_a_brush_buffer_larger_than_the_plane_is_refused_before_it_is_read(
    demo: tuple[RunningHost, Any, Any],
) -> None:
    host, stub, viewer = demo
    request = VC.ViewerControllerNewROIRequest(viewer_controller=viewer, itype=20, idx=0, name="brush", opacity=1)
    pix = ok(stub.ViewerControllerCurDCM(viewer)).pix
    shape = ok(stub.DCMPixShape(pix))
    rows = shape.rows + 1
    request.buffer.CopyFrom(VC.ViewerControllerNewROIRequest.Buffer(rows=rows, columns=2, buffer=[True] * rows * 2))

    answer = stub.ViewerControllerNewROI(request)

    assert answer.status.status == 0
    assert answer.status.message == (
        f"Could not create ROI: the brush buffer is 2 x {rows} pixels, larger than the "
        f"{shape.columns} x {shape.rows} plane - give a buffer no larger than the plane"
    )
