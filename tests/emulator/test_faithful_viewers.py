"""Viewers as OsiriX runs them (Horos ``ViewerController.m``, ``ITKTransform.mm``, ``BrowserController.m``,
``DCMPix.m``): fusion and 3D windows, resampling that replaces the moving viewer, settings propagated
afterwards, the browser's selection after an import, pixel conversions. On the MR phantom; expected
values come from pydicom and numpy."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2, dcmpix_pb2, viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.testing import RunningHost
from tests.helpers import ok

VC = viewercontroller_pb2
BC = browsercontroller_pb2


@pytest.fixture(scope="module")
def host(phantom_host: RunningHost) -> RunningHost:
    """This module's tests run on the host that imported the MR phantom."""
    return phantom_host


@pytest.fixture(scope="module")
def planes(phantom_planes: list[pydicom.Dataset]) -> list[pydicom.Dataset]:
    """The phantom's files in OsiriX's plane order."""
    return phantom_planes


def sorted_images(host: RunningHost):  # type: ignore[no-untyped-def]
    stub = host.stub()
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    [study] = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
    [series] = ok(stub.DicomStudySeries(study)).series
    return stub, browser, list(ok(stub.DicomSeriesSortedImages(series)).sorted_images)


def open_viewer(host: RunningHost, keep=lambda index: True):  # type: ignore[no-untyped-def]
    stub, browser, images = sorted_images(host)
    frame = BC.BrowserControllerOpenViewerFromImagesRequest.FrameImages(
        images=[image for index, image in enumerate(images) if keep(index)]
    )
    return stub, ok(
        stub.BrowserControllerOpenViewerFromImages(
            BC.BrowserControllerOpenViewerFromImagesRequest(browser=browser, frames=[frame])
        )
    ).viewer


def pixels(stub, viewer) -> list:  # type: ignore[no-untyped-def]
    return list(ok(stub.ViewerControllerPixList(VC.ViewerControllerPixListRequest(viewer_controller=viewer))).pix)


def image(stub, pix) -> np.ndarray:  # type: ignore[no-untyped-def]
    answer = ok(stub.DCMPixImage(pix))
    if answer.is_argb:
        return np.asarray(answer.image_data_argb, dtype=np.int64).reshape(answer.rows, answer.columns, 4)
    return np.asarray(answer.image_data_float, dtype=np.float32).reshape(answer.rows, answer.columns)


def set_wlww(stub, viewer, wl: float, ww: float) -> None:  # type: ignore[no-untyped-def]
    ok(stub.ViewerControllerSetWLWW(VC.ViewerControllerSetWLWWRequest(viewer_controller=viewer, wl=wl, ww=ww)))


def wlww(stub, viewer) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    answer = ok(stub.ViewerControllerWLWW(viewer))
    return (answer.wl, answer.ww)


def open_vr(stub, viewer):  # type: ignore[no-untyped-def]
    return ok(
        stub.ViewerControllerOpenVRViewerForMode(
            VC.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=viewer, mode="VR")
        )
    ).vr_controller


def fuse(stub, viewer, other) -> None:  # type: ignore[no-untyped-def]
    ok(
        stub.ViewerControllerFuseWithViewer(
            VC.ViewerControllerFuseWithViewerRequest(viewer_controller=viewer, fusion_viewer_controller=other)
        )
    )


def test_a_3d_window_opened_from_a_fused_viewer_reports_its_blending_viewer(host: RunningHost) -> None:
    stub, viewer = open_viewer(host)
    _, other = open_viewer(host)
    fuse(stub, viewer, other)
    vr = open_vr(stub, viewer)
    assert ok(stub.VRControllerBlendingController(vr)).viewer_controller.osirixrpc_uid == other.osirixrpc_uid
    assert ok(stub.VRControllerViewer2D(vr)).viewer_controller.osirixrpc_uid == viewer.osirixrpc_uid
    # ActivateBlending: no cross blending - fusing back drops the first fusion.
    fuse(stub, other, viewer)
    assert ok(stub.ViewerControllerBlendingController(other)).blending_viewer.osirixrpc_uid == viewer.osirixrpc_uid
    assert stub.ViewerControllerBlendingController(viewer).status.message == "No blending controller active"


def test_resampling_replaces_the_moving_viewer(host: RunningHost, planes: list[pydicom.Dataset]) -> None:
    stub = host.stub()
    for other in ok(stub.OsirixDisplayed2DViewers(Empty())).viewer_controllers:  # they would propagate theirs
        ok(stub.ViewerControllerCloseViewer(other))
    stub, fixed = open_viewer(host)
    _, moving = open_viewer(host, keep=lambda index: index % 2 == 0)  # every other plane: 6.6 mm apart
    _, bystander = open_viewer(host)
    moving_first_image = ok(stub.DCMPixDicomImage(pixels(stub, moving)[0])).dicom_image
    set_wlww(stub, fixed, 300, 700)
    set_wlww(stub, moving, 10, 20)
    resampled = ok(
        stub.ViewerControllerResampleViewerController(
            VC.ViewerControllerResampleViewerControllerRequest(viewer_controller=moving, fixed_viewer_controller=fixed)
        )
    ).resampled_viewer
    # The moving viewer is closed and the resampled one takes its place in front.
    assert stub.ViewerControllerTitle(moving).status.message == "No ViewerController cached"
    displayed = [v.osirixrpc_uid for v in ok(stub.OsirixDisplayed2DViewers(Empty())).viewer_controllers]
    assert moving.osirixrpc_uid not in displayed and resampled.osirixrpc_uid in displayed
    assert ok(stub.OsirixFrontmostViewer(Empty())).viewer_controller.osirixrpc_uid == resampled.osirixrpc_uid
    # On the fixed geometry: planes the moving series has are kept, the others are linear in between.
    volume = np.stack([d.pixel_array.astype(np.float64) for d in planes])
    new_planes = pixels(stub, resampled)
    assert len(new_planes) == len(planes)
    for index in (0, 1, 16, 17, 37):
        expected = volume[index] if index % 2 == 0 else (volume[index - 1] + volume[index + 1]) / 2
        assert np.allclose(image(stub, new_planes[index]), expected, atol=1e-3), index
        origin = ok(stub.DCMPixOrigin(new_planes[index]))
        assert np.allclose(
            [origin.origin_x, origin.origin_y, origin.origin_z],
            [float(v) for v in planes[index].ImagePositionPatient],
            atol=1e-4,
        )
    # The new planes carry the moving series' first image.
    assert ok(stub.DCMPixDicomImage(new_planes[5])).dicom_image.osirixrpc_uid == moving_first_image.osirixrpc_uid
    # Then the fixed viewer propagates its settings: its WL/WW reaches the other MR viewers.
    assert wlww(stub, resampled) == (300, 700)
    assert wlww(stub, bystander) == (300, 700)


def test_resampling_refuses_what_osirix_cannot_resample(host: RunningHost) -> None:
    stub, fixed = open_viewer(host)
    _, uneven = open_viewer(host, keep=lambda index: index in (0, 1, 5))
    answer = stub.ViewerControllerResampleViewerController(
        VC.ViewerControllerResampleViewerControllerRequest(viewer_controller=uneven, fixed_viewer_controller=fixed)
    )
    assert answer.status.status == 0 and "volumic" in answer.status.message
    assert ok(stub.ViewerControllerTitle(uneven))  # nothing was closed


def test_rgb_conversion_of_one_channel_and_argb_bytes(host: RunningHost, planes: list[pydicom.Dataset]) -> None:
    stub, viewer = open_viewer(host)
    pix = pixels(stub, viewer)[3]
    grey = planes[3].pixel_array.astype(np.float64)
    ok(stub.DCMPixConvertToRGB(dcmpix_pb2.DCMPixConvertToRGBRequest(pix=pix, rgb_channel=1)))
    argb = image(stub, pix)
    level, width = int((grey.min() + grey.max()) / 2), int(grey.max() - grey.min())
    low, high = level - width // 2, level + width // 2
    green = np.floor((np.clip(grey, low, high) - low) * 255 / (high - low) + 0.5)
    assert np.array_equal(argb[..., 2], green)
    assert not argb[..., 1].any() and not argb[..., 3].any()
    assert np.array_equal(argb[..., 0], green.astype(np.int64) // 3)  # DCMPix.m: alpha = (R + G + B) / 3
    values = np.arange(argb.size) % 700 - 200  # the plugin stores each value cast to a byte
    ok(stub.DCMPixSetImage(dcmpix_pb2.DCMPixSetImageRequest(pix=pix, image_data_argb=values.tolist())))
    assert np.array_equal(image(stub, pix).ravel(), values % 256)
    ok(stub.DCMPixConvertToBW(dcmpix_pb2.DCMPixConvertToBWRequest(pix=pix, bw_channel=3)))
    rgb = (values % 256).reshape(argb.shape)[..., 1:4]
    assert np.allclose(image(stub, pix), rgb.sum(axis=2) / 3, atol=1e-4)


def test_map_of_a_polygon_leaves_out_its_lowest_row_and_column(host: RunningHost) -> None:
    stub, viewer = open_viewer(host)
    request = VC.ViewerControllerNewROIRequest(
        viewer_controller=viewer,
        itype=11,
        idx=0,
        name="p",
        points=[
            VC.ViewerControllerNewROIRequest.Point2D(x=x, y=y) for x, y in ((10, 20), (30, 20), (30, 40), (10, 40))
        ],
    )
    roi = ok(stub.ViewerControllerNewROI(request)).roi
    answer = ok(stub.DCMPixGetMapFromROI(dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=pixels(stub, viewer)[0], roi=roi)))
    rows, columns = np.nonzero(np.asarray(answer.map).reshape(answer.rows, answer.columns))
    # DCMPix.m getMapFromPolygonROI: raw vertices, and the border of the box around them is cleared.
    assert (rows.min(), columns.min()) == (21, 11) and (rows.max(), columns.max()) == (39, 29)


def test_the_browser_selects_the_first_study_when_studies_arrive(
    start_host: Callable[..., Any], phantom_dir: Path
) -> None:
    with start_host("--empty") as host:
        stub = host.stub()
        browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
        selection = ok(stub.BrowserControllerDatabaseSelection(browser))
        assert list(selection.studies) == [] and list(selection.series) == []
        files = [str(p) for p in sorted(phantom_dir.glob("*.dcm"))]
        ok(
            stub.BrowserControllerCopyFilesIfNeeded(
                BC.BrowserControllerCopyFilesIfNeededRequest(browser=browser, paths=files)
            )
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not ok(stub.BrowserControllerDatabaseSelection(browser)).studies:
            time.sleep(0.2)
        selection = ok(stub.BrowserControllerDatabaseSelection(browser))
        [study] = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
        assert [s.osirixrpc_uid for s in selection.studies] == [study.osirixrpc_uid]
        assert list(selection.series) == []
        uid = ok(stub.DicomStudyStudyInstanceUID(study)).study_instance_uid
        assert uid == pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID
