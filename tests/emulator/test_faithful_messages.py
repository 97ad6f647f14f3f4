"""Every status message of the OsiriXgrpc plugin, answered byte for byte by a real ``osirix-tasks serve``.

The table below is one row per (RPC, situation, message), with the request that triggers it. It was
built from the plugin's ``gRPC*Delegate.mm``: every ``set_message`` of every RPC is either a row here
or listed in ``UNREACHABLE`` with the reason OsiriX never gets there; ``test_table_covers_the_plugin``
re-reads the Objective-C (when ``../shared/reference`` is there) and fails if the two drift apart.
Rows whose ``origin`` is ``"ours"`` are refusals of our own where the plugin checks nothing (OsiriX
would crash, hang on a dialog, or store garbage); their text is ours. Rows with several things
wrong check the plugin's order of checks. Each row runs on the bundled demo database (``--demo``)
or on an empty one (``--empty``), or on both.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from osirixgrpc import (
    browsercontroller_pb2,
    dcmpix_pb2,
    roi_pb2,
    roivolume_pb2,
    types_pb2,
    viewercontroller_pb2,
    vrcontroller_pb2,
)
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.emulator.protocol import RPC_NAMES, request_class
from osirix_tasks.testing import RunningHost, running_host
from tests.helpers import ok

VC = viewercontroller_pb2
REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO.parent / "shared" / "reference" / "osirixgrpc-plugin"
UNKNOWN = "00000000-0000-0000-0000-000000000000"
#: The protocol's object references: every message of types.proto.
REF_TYPES = frozenset(types_pb2.DESCRIPTOR.message_types_by_name)
#: Stands for ``[exception reason]``: the plugin answers the text of an OsiriX exception.
EXCEPTION = "<exception reason>"


@dataclass
class World:
    """The objects the rows refer to, on one running host."""

    stub: Any
    browser: Any
    study: Any = None
    series: Any = None
    images: list[Any] = field(default_factory=list)
    viewer: Any = None
    pix: Any = None
    rgb_pix: Any = None
    roi: Any = None
    rect_roi: Any = None
    vr: Any = None
    volume: Any = None
    closed_viewer: Any = None
    deleted_roi: Any = None


@dataclass(frozen=True)
class Row:
    """One failure: ``rpc`` answers ``message`` (status 0) in ``situation``, for the request ``build(world)``."""

    rpc: str
    situation: str
    message: str
    build: Callable[[World], Any]
    origin: str = "plugin"  # "plugin": the plugin's text; "ours": a refusal the plugin does not make
    host: str = "demo"  # "demo", "empty" or "both"
    template: str = ""  # the plugin's text when ``message`` is one instance of a format or an exception

    @property
    def source_message(self) -> str:
        return self.template or self.message


def ref(kind: str, uid: str = UNKNOWN) -> Any:
    return getattr(types_pb2, kind)(osirixrpc_uid=uid)


def unknown_request(rpc: str) -> tuple[Any, str | None]:
    """``rpc``'s request with every object reference set to an unknown uid, and the first type it names."""
    request = request_class(rpc)()
    if request.DESCRIPTOR.name in REF_TYPES:
        request.osirixrpc_uid = UNKNOWN
        return request, request.DESCRIPTOR.name
    first = None
    for item in request.DESCRIPTOR.fields:
        if item.message_type is not None and item.message_type.name in REF_TYPES and not item.is_repeated:
            getattr(request, item.name).osirixrpc_uid = UNKNOWN
            first = first or item.message_type.name
    return request, first


def _unknown_rows() -> list[Row]:
    rows = []
    for rpc in RPC_NAMES:
        request, kind = unknown_request(rpc)
        if kind is not None:
            rows.append(Row(rpc, f"unknown {kind} uid", f"No {kind} cached", lambda w, r=request: r, host="both"))
    return rows


def new_roi(
    w: World,
    itype: int,
    *,
    viewer: Any = None,
    idx: int = 0,
    points: Any = None,
    rect: Any = None,
    buffer: tuple[int, int, list[bool]] | None = None,
) -> Any:
    request = VC.ViewerControllerNewROIRequest(
        viewer_controller=viewer or w.viewer, itype=itype, idx=idx, name="r", thickness=1, opacity=1
    )
    if points is not None:
        request.points.extend([VC.ViewerControllerNewROIRequest.Point2D(x=x, y=y) for x, y in points])
    if rect is not None:
        request.rectangle.CopyFrom(
            VC.ViewerControllerNewROIRequest.Rect(origin_x=rect[0], origin_y=rect[1], width=rect[2], height=rect[3])
        )
    if buffer is not None:
        rows, columns, values = buffer
        request.buffer.CopyFrom(VC.ViewerControllerNewROIRequest.Buffer(rows=rows, columns=columns, buffer=values))
    return request


NIL_IMAGE = "*** -[__NSArrayM insertObject:atIndex:]: object cannot be nil"
TRIANGLE = [(10, 10), (30, 10), (20, 30)]

ROWS: list[Row] = [
    *_unknown_rows(),
    # --- Osirix ------------------------------------------------------------------------------
    Row("OsirixFrontmostViewer", "no 2D viewer open", "No ViewerController active", lambda w: Empty(), host="empty"),
    Row("OsirixFrontmostVRController", "no 3D window open", "No VRController active", lambda w: Empty(), host="empty"),
    # --- BrowserController ---------------------------------------------------------------------
    Row(
        "BrowserControllerOpenViewerFromImages",
        "an image uid that is not cached (OsiriX adds nil to an array)",
        NIL_IMAGE,
        lambda w: browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(
            browser=w.browser,
            frames=[
                browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(
                    images=[ref("DicomImage")]
                )
            ],
        ),
        host="both",
        template=EXCEPTION,
    ),
    Row(
        "BrowserControllerOpenViewerFromImages",
        "no frames",
        "No images provided: give at least one frame with at least one image",
        lambda w: browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(browser=w.browser),
        origin="ours",
        host="both",
    ),
    Row(
        "BrowserControllerCopyFilesIfNeeded",
        "a path that does not exist",
        "Cannot read /no/such/file.dcm: give the paths of DICOM files this OsiriX can read",
        lambda w: browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(
            browser=w.browser, paths=["/no/such/file.dcm"]
        ),
        origin="ours",
        host="both",
    ),
    Row(
        "BrowserControllerCopyFilesIfNeeded",
        "a folder",
        "Cannot read /: give the paths of DICOM files this OsiriX can read",
        lambda w: browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(browser=w.browser, paths=["/"]),
        origin="ours",
        host="both",
    ),
    # --- ViewerController ----------------------------------------------------------------------
    Row("ViewerControllerTitle", "a closed viewer", "No ViewerController cached", lambda w: w.closed_viewer),
    Row(
        "ViewerControllerNewROI",
        "an unknown ROI type",
        "Could not create ROI",
        lambda w: new_roi(w, 99, points=TRIANGLE),
    ),
    Row(
        "ViewerControllerNewROI",
        "unknown viewer and unknown type: the viewer is checked first",
        "No ViewerController cached",
        lambda w: new_roi(w, 99, viewer=ref("ViewerController")),
    ),
    Row(
        "ViewerControllerNewROI",
        "a buffer whose length is not rows x columns",
        "Could not create ROI",
        lambda w: new_roi(w, 20, buffer=(3, 3, [True] * 10)),
    ),
    Row(
        "ViewerControllerNewROI",
        "a buffer with nothing set (ROI.m -valid: no area)",
        "Could not create ROI",
        lambda w: new_roi(w, 20, buffer=(2, 2, [False] * 4)),
    ),
    Row(
        "ViewerControllerNewROI",
        "a closed polygon of two points",
        "Could not create ROI",
        lambda w: new_roi(w, 11, points=TRIANGLE[:2]),
    ),
    Row(
        "ViewerControllerNewROI",
        "a pencil of two points",
        "Could not create ROI",
        lambda w: new_roi(w, 15, points=TRIANGLE[:2]),
    ),
    Row(
        "ViewerControllerNewROI",
        "an open polygon of two points",
        "Could not create ROI",
        lambda w: new_roi(w, 10, points=TRIANGLE[:2]),
    ),
    Row(
        "ViewerControllerNewROI",
        "an angle of two points",
        "Could not create ROI",
        lambda w: new_roi(w, 12, points=TRIANGLE[:2]),
    ),
    Row(
        "ViewerControllerNewROI",
        "a measure whose ends are within 0.2 pixel",
        "Could not create ROI",
        lambda w: new_roi(w, 5, points=[(10, 10), (10.1, 10.1)]),
    ),
    Row(
        "ViewerControllerNewROI",
        "an arrow of one point",
        "Could not create ROI",
        lambda w: new_roi(w, 14, points=[(10, 10)]),
    ),
    Row(
        "ViewerControllerNewROI",
        "an axis of three points",
        "Could not create ROI",
        lambda w: new_roi(w, 26, points=TRIANGLE),
    ),
    Row(
        "ViewerControllerNewROI",
        "a dynamic angle of three points",
        "Could not create ROI",
        lambda w: new_roi(w, 27, points=TRIANGLE),
    ),
    Row(
        "ViewerControllerNewROI",
        "a tTAGT of five points",
        "Could not create ROI",
        lambda w: new_roi(w, 29, points=[*TRIANGLE, (1, 1), (2, 2)]),
    ),
    Row(
        "ViewerControllerNewROI",
        "a rectangle 0.1 pixel wide",
        "Could not create ROI",
        lambda w: new_roi(w, 6, rect=(10, 10, 0.1, 5)),
    ),
    Row(
        "ViewerControllerNewROI",
        "an oval 0.1 pixel high",
        "Could not create ROI",
        lambda w: new_roi(w, 9, rect=(10, 10, 5, -0.1)),
    ),
    Row(
        "ViewerControllerNewROI",
        "a valid ROI on a slice the viewer does not have",
        "Slice index 99 out of range: the viewer has 24 slice(s)",
        lambda w: new_roi(w, 11, idx=99, points=TRIANGLE),
        origin="ours",
    ),
    Row(
        "ViewerControllerNewROI",
        "an invalid ROI on a slice the viewer does not have: validity first",
        "Could not create ROI",
        lambda w: new_roi(w, 11, idx=99, points=TRIANGLE[:2]),
    ),
    Row(
        "ViewerControllerNewROI",
        "NaN in the points",
        "Could not create ROI: the points contain NaN or infinite values - give finite numbers",
        lambda w: new_roi(w, 11, points=[*TRIANGLE[:2], (math.nan, 1)]),
        origin="ours",
    ),
    Row(
        "ViewerControllerSetMovieIdx",
        "movie index above the frame count",
        "Invalid movie index",
        lambda w: VC.ViewerControllerSetMovieIdxRequest(viewer_controller=w.viewer, movie_idx=2),
    ),
    Row(
        "ViewerControllerSetMovieIdx",
        "negative movie index",
        "Invalid movie index",
        lambda w: VC.ViewerControllerSetMovieIdxRequest(viewer_controller=w.viewer, movie_idx=-1),
    ),
    Row(
        "ViewerControllerSetIdx",
        "index = number of slices",
        "Index 24 is out of range",
        lambda w: VC.ViewerControllerSetIdxRequest(viewer_controller=w.viewer, idx=24),
        template="Index %ld is out of range",
    ),
    Row(
        "ViewerControllerSetIdx",
        "negative index",
        "Index -1 is out of range",
        lambda w: VC.ViewerControllerSetIdxRequest(viewer_controller=w.viewer, idx=-1),
        template="Index %ld is out of range",
    ),
    Row(
        "ViewerControllerSetDisplayedIdx",
        "index = number of slices",
        "Index 24 is out of range",
        lambda w: VC.ViewerControllerSetDisplayedIdxRequest(viewer_controller=w.viewer, displayed_idx=24),
        template="Index %ld is out of range",
    ),
    Row(
        "ViewerControllerSetDisplayedIdx",
        "negative index",
        "Index -7 is out of range",
        lambda w: VC.ViewerControllerSetDisplayedIdxRequest(viewer_controller=w.viewer, displayed_idx=-7),
        template="Index %ld is out of range",
    ),
    Row(
        "ViewerControllerResampleViewerController",
        "an unknown fixed viewer",
        "No fixed ViewerController cached",
        lambda w: VC.ViewerControllerResampleViewerControllerRequest(
            viewer_controller=w.viewer, fixed_viewer_controller=ref("ViewerController")
        ),
    ),
    Row(
        "ViewerControllerResampleViewerController",
        "a closed fixed viewer",
        "No fixed ViewerController cached",
        lambda w: VC.ViewerControllerResampleViewerControllerRequest(
            viewer_controller=w.viewer, fixed_viewer_controller=w.closed_viewer
        ),
    ),
    Row(
        "ViewerControllerBlendingController",
        "a viewer with nothing fused",
        "No blending controller active",
        lambda w: w.viewer,
    ),
    Row(
        "ViewerControllerOpenVRViewerForMode",
        "a mode other than VR and MIP",
        "Unavailable mode",
        lambda w: VC.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=w.viewer, mode="SR"),
    ),
    Row(
        "ViewerControllerOpenVRViewerForMode",
        "unknown viewer and bad mode: the viewer is checked first",
        "No ViewerController cached",
        lambda w: VC.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=ref("ViewerController"), mode="SR"),
        host="both",
    ),
    Row(
        "ViewerControllerFuseWithViewer",
        "an unknown viewer to fuse",
        "No fusion ViewerController cached",
        lambda w: VC.ViewerControllerFuseWithViewerRequest(
            viewer_controller=w.viewer, fusion_viewer_controller=ref("ViewerController")
        ),
    ),
    Row(
        "ViewerControllerSetWLWW",
        "a NaN window level",
        "wl must be a finite number, got nan",
        lambda w: VC.ViewerControllerSetWLWWRequest(viewer_controller=w.viewer, wl=math.nan, ww=1),
        origin="ours",
    ),
    Row(
        "ViewerControllerROIsWithName",
        "a movie index the viewer does not have",
        "Movie index 3 out of range: the viewer has 1 frame(s)",
        lambda w: VC.ViewerControllerROIsWithNameRequest(viewer_controller=w.viewer, name="r", movie_idx=3),
        origin="ours",
    ),
    # --- DCMPix --------------------------------------------------------------------------------
    Row(
        "DCMPixConvertToRGB",
        "an RGB pix",
        "Data already RGB",
        lambda w: dcmpix_pb2.DCMPixConvertToRGBRequest(pix=w.rgb_pix, rgb_channel=3),
    ),
    Row(
        "DCMPixConvertToRGB",
        "a channel other than 0-3",
        "Requested RGB type not understood",
        lambda w: dcmpix_pb2.DCMPixConvertToRGBRequest(pix=w.pix, rgb_channel=4),
    ),
    Row(
        "DCMPixConvertToRGB",
        "an RGB pix and a bad channel: RGB is checked first",
        "Data already RGB",
        lambda w: dcmpix_pb2.DCMPixConvertToRGBRequest(pix=w.rgb_pix, rgb_channel=-1),
    ),
    Row(
        "DCMPixConvertToBW",
        "a greyscale pix",
        "Data already BW",
        lambda w: dcmpix_pb2.DCMPixConvertToBWRequest(pix=w.pix, bw_channel=0),
    ),
    Row(
        "DCMPixConvertToBW",
        "an RGB pix and a channel other than 0-3",
        "Requested BW type not understood",
        lambda w: dcmpix_pb2.DCMPixConvertToBWRequest(pix=w.rgb_pix, bw_channel=9),
    ),
    Row(
        "DCMPixConvertToBW",
        "a greyscale pix and a bad channel: BW is checked first",
        "Data already BW",
        lambda w: dcmpix_pb2.DCMPixConvertToBWRequest(pix=w.pix, bw_channel=9),
    ),
    Row(
        "DCMPixComputeROI",
        "an RGB pix",
        "No values provided for RGB pix",
        lambda w: dcmpix_pb2.DCMPixComputeROIRequest(pix=w.rgb_pix, roi=w.roi),
    ),
    Row(
        "DCMPixComputeROI",
        "an RGB pix and an unknown ROI: RGB is checked first",
        "No values provided for RGB pix",
        lambda w: dcmpix_pb2.DCMPixComputeROIRequest(pix=w.rgb_pix, roi=ref("ROI")),
    ),
    Row(
        "DCMPixComputeROI",
        "an unknown ROI",
        "No ROI cached",
        lambda w: dcmpix_pb2.DCMPixComputeROIRequest(pix=w.pix, roi=ref("ROI")),
    ),
    Row(
        "DCMPixComputeROI",
        "a deleted ROI",
        "No ROI cached",
        lambda w: dcmpix_pb2.DCMPixComputeROIRequest(pix=w.pix, roi=w.deleted_roi),
    ),
    Row(
        "DCMPixROIValues",
        "an RGB pix",
        "No values provided for RGB pix",
        lambda w: dcmpix_pb2.DCMPixROIValuesRequest(pix=w.rgb_pix, roi=w.roi),
    ),
    Row(
        "DCMPixROIValues",
        "an RGB pix and an unknown ROI: RGB is checked first",
        "No values provided for RGB pix",
        lambda w: dcmpix_pb2.DCMPixROIValuesRequest(pix=w.rgb_pix, roi=ref("ROI")),
    ),
    Row(
        "DCMPixROIValues",
        "an unknown ROI",
        "No ROI cached",
        lambda w: dcmpix_pb2.DCMPixROIValuesRequest(pix=w.pix, roi=ref("ROI")),
    ),
    Row(
        "DCMPixGetMapFromROI",
        "an unknown ROI",
        "No ROI cached",
        lambda w: dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=w.pix, roi=ref("ROI")),
    ),
    Row(
        "DCMPixGetMapFromROI",
        "a rectangle ROI (only brush, polygons and pencil)",
        "Invalid ROI",
        lambda w: dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=w.pix, roi=w.rect_roi),
    ),
    Row(
        "DCMPixGetMapFromROI",
        "an RGB pix and a rectangle ROI (no RGB check)",
        "Invalid ROI",
        lambda w: dcmpix_pb2.DCMPixGetMapFromROIRequest(pix=w.rgb_pix, roi=w.rect_roi),
    ),
    Row(
        "DCMPixSetImage",
        "fewer floats than pixels",
        "Incompatible image shape",
        lambda w: dcmpix_pb2.DCMPixSetImageRequest(pix=w.pix, image_data_float=[1.0] * 10),
    ),
    Row(
        "DCMPixSetImage",
        "ARGB values for a greyscale pix",
        "Incompatible image shape",
        lambda w: dcmpix_pb2.DCMPixSetImageRequest(pix=w.pix, image_data_argb=[1] * (128 * 128 * 4)),
    ),
    Row(
        "DCMPixSetImage",
        "floats for an RGB pix",
        "Incompatible image shape",
        lambda w: dcmpix_pb2.DCMPixSetImageRequest(pix=w.rgb_pix, image_data_float=[1.0] * (128 * 128)),
    ),
    Row(
        "DCMPixSetImage",
        "too few ARGB values for an RGB pix",
        "Incompatible image shape",
        lambda w: dcmpix_pb2.DCMPixSetImageRequest(pix=w.rgb_pix, image_data_argb=[1] * 12),
    ),
    # --- ROI -----------------------------------------------------------------------------------
    Row("ROIName", "a deleted ROI", "No ROI cached", lambda w: w.deleted_roi),
    Row(
        "ROIMove",
        "a NaN shift",
        "Values must be finite numbers, got nan, 1.0",
        lambda w: roi_pb2.ROIMoveRequest(roi=w.roi, columns=math.nan, rows=1),
        origin="ours",
    ),
    # --- VRController and ROIVolume --------------------------------------------------------------
    Row(
        "VRControllerSetRenderingMode",
        "a mode other than VR and MIP",
        "Invalid rendering mode",
        lambda w: vrcontroller_pb2.VRControllerSetRenderingModeRequest(vr_controller=w.vr, rendering_mode="SR"),
    ),
    Row(
        "VRControllerDisplayROIVolume",
        "an unknown ROI volume",
        "No ROIVolume cached",
        lambda w: vrcontroller_pb2.VRControllerDisplayROIVolumeRequest(vr_controller=w.vr, roi_volume=ref("ROIVolume")),
    ),
    Row(
        "VRControllerHideROIVolume",
        "an unknown ROI volume",
        "No ROIVolume cached",
        lambda w: vrcontroller_pb2.VRControllerHideROIVolumeRequest(vr_controller=w.vr, roi_volume=ref("ROIVolume")),
    ),
    Row(
        "ROIVolumeSetOpacity",
        "a NaN opacity",
        "opacity must be a finite number, got nan",
        lambda w: roivolume_pb2.ROIVolumeSetOpacityRequest(roi=w.volume, opacity=math.nan),
        origin="ours",
    ),
    # --- Database model ---------------------------------------------------------------------------
    Row(
        "DicomStudyPerformingPhysician",
        "a study without PerformingPhysicianName",
        "Performing physician not available",
        lambda w: w.study,
    ),
    Row("DicomSeriesNextSeries", "the last series of its study", "No next series", lambda w: w.series),
    Row("DicomSeriesPreviousSeries", "the first series of its study", "No previous series", lambda w: w.series),
]

#: Plugin messages no request can trigger, with the reason.
UNREACHABLE: dict[tuple[str, str], str] = {
    ("OsirixCurrentBrowser", "No BrowserController active"): "OsiriX always has its database window",
    ("BrowserControllerDatabaseStudies", EXCEPTION): "listing the browser's rows raises nothing",
    ("ViewerControllerCopyViewerWindow", "Could not generate new viewer"): "copying a viewer raises nothing",
    ("ViewerControllerOpenVRViewerForMode", "Could not find opened VR window"): "the 3D window always opens",
    ("DCMPixImage", "Could not create image"): "reading the pixels raises nothing",
    ("DCMPixSetImage", "Could not create image"): "writing the pixels raises nothing once the count matches",
    ("DCMPixROIValues", "Could not compute indices"): "a status 1 answer after an exception that never happens",
    ("DicomSeriesSeriesDescription", "No series description available"): "OsiriX names such a series 'unnamed'",
    ("DicomStudyName", "Study name not available"): "OsiriX names a patient without a name 'No name'",
    ("DicomStudyStudyName", "Study name not available"): "OsiriX names a study without a description 'unnamed'",
    ("DicomStudyModality", "Modality not available"): "OsiriX gives a file without Modality 'OT'",
    ("DicomStudyModalities", "Modalities not available"): "computed from the series, never nil",
    ("DicomStudyNoFiles", "Number of files not available"): "a count OsiriX always has",
    ("DicomStudyRawNoFiles", "Raw number of files not available"): "a count OsiriX always has",
    ("DicomStudyNumberOfImages", "Number of images not available"): "a count OsiriX always has",
    ("DicomStudyPatientUID", "Patient UID not available"): "computed from name, ID and birth date",
    ("DicomStudyStudyInstanceUID", "Study instance UID not available"): "a study is keyed by it",
    ("DicomStudyDateAdded", "Date added not available"): "set at import",
    ("DicomStudyDate", "Study date not available"): "OsiriX dates an image without dates 1901-01-01",
    ("DicomStudyPatientID", "Patient ID not available"): "both demo and phantom carry a PatientID",
    ("DicomStudyPatientSex", "Patient sex not available"): "both demo and phantom carry a PatientSex",
    ("DicomStudyDateOfBirth", "Date of birth not available"): "both demo and phantom carry a birth date",
    ("DicomStudyInstitutionName", "Institution name not available"): "both demo and phantom carry one",
    ("DicomStudyReferringPhysician", "Referring physician not available"): "both demo and phantom carry one",
}


def _expanded() -> list[tuple[Row, str]]:
    out = []
    for row in ROWS:
        for host in ("demo", "empty") if row.host == "both" else (row.host,):
            out.append((row, host))
    return out


CASES = _expanded()


def _demo_world(host: RunningHost) -> World:
    stub = host.stub()
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    [study] = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
    [series] = ok(stub.DicomStudySeries(study)).series
    images = list(ok(stub.DicomSeriesSortedImages(series)).sorted_images)
    frame = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages

    def open_viewer() -> Any:
        request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(
            browser=browser, frames=[frame(images=images)]
        )
        return ok(stub.BrowserControllerOpenViewerFromImages(request)).viewer

    w = World(stub, browser, study, series, images)
    w.closed_viewer = open_viewer()
    ok(stub.ViewerControllerCloseViewer(w.closed_viewer))
    w.viewer = open_viewer()
    pix_list = ok(stub.ViewerControllerPixList(VC.ViewerControllerPixListRequest(viewer_controller=w.viewer))).pix
    w.pix = pix_list[0]
    copy = ok(stub.ViewerControllerCopyViewerWindow(w.viewer)).viewer_controller
    w.rgb_pix = ok(stub.ViewerControllerPixList(VC.ViewerControllerPixListRequest(viewer_controller=copy))).pix[0]
    ok(stub.DCMPixConvertToRGB(dcmpix_pb2.DCMPixConvertToRGBRequest(pix=w.rgb_pix, rgb_channel=3)))
    w.roi = ok(stub.ViewerControllerNewROI(new_roi(w, 11, points=TRIANGLE))).roi
    w.rect_roi = ok(stub.ViewerControllerNewROI(new_roi(w, 6, rect=(5, 5, 10, 10)))).roi
    w.deleted_roi = ok(stub.ViewerControllerNewROI(new_roi(w, 11, points=TRIANGLE))).roi
    ok(stub.ROIDelete(w.deleted_roi))
    for index in (1, 2):
        request = new_roi(w, 20, idx=index, buffer=(4, 4, [True] * 16))
        request.name = "organ"
        ok(stub.ViewerControllerNewROI(request))
    w.vr = ok(
        stub.ViewerControllerOpenVRViewerForMode(
            VC.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=w.viewer, mode="VR")
        )
    ).vr_controller
    volumes = ok(stub.VRControllerROIVolumes(w.vr)).roi_volumes
    [w.volume] = [v for v in volumes if ok(stub.ROIVolumeName(v)).name == "organ"]
    return w


@pytest.fixture(scope="module")
def worlds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, World]]:
    with (
        running_host(tmp_path_factory.mktemp("demo"), "--demo") as demo,
        running_host(tmp_path_factory.mktemp("empty"), "--empty") as bare,
    ):
        stub = bare.stub()
        yield {
            "demo": _demo_world(demo),
            "empty": World(stub, ok(stub.OsirixCurrentBrowser(Empty())).browser_controller),
        }


@pytest.mark.parametrize(("row", "host"), CASES, ids=[f"{r.rpc}-{h}-{r.situation}" for r, h in CASES])
def test_status_message(worlds: dict[str, World], row: Row, host: str) -> None:
    world = worlds[host]
    answer = getattr(world.stub, row.rpc)(row.build(world))
    assert (answer.status.status, answer.status.message) == (0, row.message), row.situation


def plugin_messages(folder: Path) -> set[tuple[str, str]]:
    """Every (RPC, message) of the plugin's delegates: ``set_message`` literals, the formats behind
    ``set_message([msg ...])``, and ``[exception reason]`` as ``EXCEPTION``."""
    found = set()
    for source in sorted(folder.glob("gRPC*Delegate.mm")):
        parts = re.split(r"^\+\s*\(\w+\)\s*(\w+)\s*:", source.read_text(), flags=re.M)
        for name, body in zip(parts[1::2], parts[2::2], strict=True):
            found |= {(name, m) for m in re.findall(r'set_message\(\s*"([^"]*)"\s*\)', body)}
            if re.search(r"set_message\(\s*\[msg UTF8String\]", body):
                found |= {(name, m) for m in re.findall(r'stringWithFormat:@"([^"]*)"', body)}
            if re.search(r"set_message\(\s*\[\[exception reason\]", body):
                found.add((name, EXCEPTION))
    return found


@pytest.mark.skipif(not PLUGIN.is_dir(), reason="../shared/reference/osirixgrpc-plugin is absent")
def test_table_covers_the_plugin() -> None:
    table = {(row.rpc, row.source_message) for row in ROWS if row.origin == "plugin"}
    source = plugin_messages(PLUGIN)
    assert len(source) > 150
    assert sorted(source - table - set(UNREACHABLE)) == []  # every plugin message is a row or explained
    assert sorted(table - source) == []  # every plugin row quotes the plugin
    assert sorted(set(UNREACHABLE) - source) == []
    assert not (table & set(UNREACHABLE))


def test_our_refusals_do_not_reuse_plugin_texts() -> None:
    plugin_texts = {row.source_message for row in ROWS if row.origin == "plugin"} | {m for _, m in UNREACHABLE}
    ours = [row for row in ROWS if row.origin == "ours"]
    assert ours and all(row.message not in plugin_texts for row in ours)
