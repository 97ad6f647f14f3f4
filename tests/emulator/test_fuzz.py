"""Fuzz every RPC of OsiriXService against the real host: requests built from the stubs'
descriptors with live, stale and unknown uids, extreme numbers, NaN/inf, odd strings and
mismatched buffers; then undecodable bytes. The host must answer each (status 0 with a message,
or a correct answer), keep serving, and keep its state consistent."""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from osirixgrpc import browsercontroller_pb2, types_pb2, viewercontroller_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.emulator.protocol import RPC_NAMES, request_class, response_class
from osirix_tasks.testing import RunningHost
from tests.helpers import ok

VC = viewercontroller_pb2
#: The protocol's object references: every message of types.proto.
REF_TYPES = frozenset(types_pb2.DESCRIPTOR.message_types_by_name)
EXAMPLES = int(os.environ.get("OSIRIX_TASKS_FUZZ_EXAMPLES", "8"))
UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.fixture(scope="module", autouse=True)
def no_crash_was_caught(host: RunningHost) -> Iterator[None]:
    """Every refusal must be a deliberate one: no implementation may have crashed and been caught."""
    yield
    crashes = [line for line in host.output if " failed: " in line or "Traceback" in line]
    assert crashes == [], "".join(host.output)


@dataclass
class World:
    """Live objects of every type, and stale ones (a closed viewer's, a deleted ROI)."""

    stub: Any
    live: dict[str, list[str]] = field(default_factory=dict)
    stale: dict[str, list[str]] = field(default_factory=dict)

    def uids(self, kind: str) -> list[str]:
        return self.live.get(kind, []) + self.stale.get(kind, []) + [UNKNOWN, ""]


def open_world_viewer(stub: Any) -> tuple[Any, Any, Any]:
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    [study] = ok(stub.BrowserControllerDatabaseStudies(browser)).studies
    [series] = ok(stub.DicomStudySeries(study)).series
    images = ok(stub.DicomSeriesSortedImages(series)).sorted_images
    request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest(
        browser=browser,
        movie=True,
        frames=[browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest.FrameImages(images=images)] * 2,
    )
    return browser, ok(stub.BrowserControllerOpenViewerFromImages(request)).viewer, (study, series, images)


def rect_roi(stub: Any, viewer: Any, idx: int, name: str) -> Any:
    return ok(
        stub.ViewerControllerNewROI(
            VC.ViewerControllerNewROIRequest(
                viewer_controller=viewer,
                itype=6,
                idx=idx,
                name=name,
                rectangle=VC.ViewerControllerNewROIRequest.Rect(origin_x=10, origin_y=10, width=8, height=6),
            )
        )
    ).roi


@pytest.fixture
def world(host: RunningHost) -> World:
    stub = host.stub()
    for viewer in ok(stub.OsirixDisplayed2DViewers(Empty())).viewer_controllers:
        ok(stub.ViewerControllerCloseViewer(viewer))
    browser, viewer, (study, series, images) = open_world_viewer(stub)
    rois = [rect_roi(stub, viewer, idx, "organ") for idx in (3, 4, 5)]
    vr = ok(
        stub.ViewerControllerOpenVRViewerForMode(
            VC.ViewerControllerOpenVRViewerForModeRequest(viewer_controller=viewer, mode="VR")
        )
    ).vr_controller
    volumes = ok(stub.VRControllerROIVolumes(vr)).roi_volumes
    pix = ok(stub.ViewerControllerPixList(VC.ViewerControllerPixListRequest(viewer_controller=viewer))).pix
    _, gone_viewer, _ = open_world_viewer(stub)
    gone_roi = rect_roi(stub, gone_viewer, 0, "gone")
    gone_pix = ok(stub.ViewerControllerCurDCM(gone_viewer)).pix
    deleted = rect_roi(stub, viewer, 1, "deleted")
    ok(stub.ROIDelete(deleted))
    ok(stub.ViewerControllerCloseViewer(gone_viewer))
    return World(
        stub,
        live={
            "BrowserController": [browser.osirixrpc_uid],
            "ViewerController": [viewer.osirixrpc_uid],
            "VRController": [vr.osirixrpc_uid],
            "DCMPix": [p.osirixrpc_uid for p in pix[:3]],
            "ROI": [r.osirixrpc_uid for r in rois],
            "ROIVolume": [v.osirixrpc_uid for v in volumes],
            "DicomImage": [i.osirixrpc_uid for i in images[:3]],
            "DicomSeries": [series.osirixrpc_uid],
            "DicomStudy": [study.osirixrpc_uid],
        },
        stale={
            "ViewerController": [gone_viewer.osirixrpc_uid],
            "ROI": [gone_roi.osirixrpc_uid, deleted.osirixrpc_uid],
            "DCMPix": [gone_pix.osirixrpc_uid],
        },
    )


INT_EDGES = [-(2**31), -1, 0, 1, 2, 23, 24, 39, 40, 1000, 2**31 - 1]
FLOATS = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 1e30, -1e30, 1e-40, 0.5, 255.0]),
    st.floats(width=32, allow_nan=True, allow_infinity=True),
)
STRINGS = st.one_of(
    st.sampled_from(["", "VR", "MIP", "Surface", "organ", "gone", "/", ".", "/nonexistent.dcm", "\x00", "é" * 50]),
    st.text(max_size=20),
)


def value_strategy(fd: FieldDescriptor, world: World, depth: int) -> st.SearchStrategy[Any]:
    if fd.message_type is not None:
        if fd.message_type.name in REF_TYPES:
            cls = getattr(types_pb2, fd.message_type.name)
            return st.sampled_from(world.uids(fd.message_type.name)).map(lambda uid: cls(osirixrpc_uid=uid))
        return message_strategy(fd.message_type, world, depth + 1)
    if fd.type in (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE):
        return FLOATS
    if fd.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if fd.type == FieldDescriptor.TYPE_STRING:
        return STRINGS
    if fd.type == FieldDescriptor.TYPE_UINT32:
        return st.one_of(st.sampled_from([0, 1, 40, 2**32 - 1]), st.integers(0, 2**32 - 1))
    return st.one_of(st.sampled_from(INT_EDGES), st.integers(-(2**31), 2**31 - 1))


def message_strategy(descriptor: Any, world: World, depth: int = 0) -> st.SearchStrategy[Any]:
    from google.protobuf import message_factory

    cls = message_factory.GetMessageClass(descriptor)
    if descriptor.name in REF_TYPES:
        return st.sampled_from(world.uids(descriptor.name)).map(lambda uid: cls(osirixrpc_uid=uid))
    optional = {}
    for fd in descriptor.fields:
        strategy = value_strategy(fd, world, depth)
        if fd.is_repeated:
            size = 300 if fd.name == "buffer" else 6
            strategy = st.lists(strategy, max_size=size if depth < 2 else 2)
        optional[fd.name] = strategy
    return st.fixed_dictionaries({}, optional=optional).map(lambda fields: cls(**fields))


def check_consistent(world: World) -> None:
    """Valid calls on whatever is still open all work, and answer sensible values."""
    stub = world.stub
    assert ok(stub.OsirixVersion(Empty())).version
    for study in world.live["DicomStudy"]:
        assert ok(stub.DicomStudyName(types_pb2.DicomStudy(osirixrpc_uid=study))).name == "Demo Phantom"
    for viewer in ok(stub.OsirixDisplayed2DViewers(Empty())).viewer_controllers:
        frames = ok(stub.ViewerControllerMaxMovieIdx(viewer)).max_movie_idx
        assert 0 <= ok(stub.ViewerControllerMovieIdx(viewer)).movie_idx < frames
        pix = ok(stub.ViewerControllerPixList(VC.ViewerControllerPixListRequest(viewer_controller=viewer))).pix
        assert 0 <= ok(stub.ViewerControllerIdx(viewer)).idx < len(pix)
        answer = ok(stub.DCMPixImage(pix[0]))
        values = answer.image_data_argb if answer.is_argb else answer.image_data_float
        assert len(values) == answer.rows * answer.columns * (4 if answer.is_argb else 1)
        for plane in ok(
            stub.ViewerControllerROIList(VC.ViewerControllerROIListRequest(viewer_controller=viewer))
        ).roi_slices:
            for roi in plane.rois:
                ok(stub.ROIArea(roi))
                ok(stub.ROIPoints(roi))


@pytest.mark.parametrize("rpc", RPC_NAMES)
def test_fuzz_rpc(host: RunningHost, world: World, rpc: str) -> None:
    stub = world.stub
    strategy = message_strategy(request_class(rpc).DESCRIPTOR, world)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )
    @given(request=strategy)
    def call(request: Any) -> None:
        answer = getattr(stub, rpc)(request, timeout=60)
        assert answer.status.status in (0, 1)
        if answer.status.status == 0:
            assert answer.status.message
        assert stub.OsirixVersion(Empty()).status.status == 1

    call()
    check_consistent(world)


@pytest.mark.parametrize("rpc", RPC_NAMES)
def test_undecodable_bytes_get_grpc_errors_and_the_host_survives(host: RunningHost, rpc: str) -> None:
    channel = grpc.insecure_channel(f"127.0.0.1:{host.ports[0]}")
    method = channel.unary_unary(
        f"/osirixgrpc.OsiriXService/{rpc}", request_serializer=None, response_deserializer=None
    )
    for payload in (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", b"\x0a\xff\x01", b"\x12\x05ab", b"\x07"):
        try:
            answer = method(payload, timeout=30)
        except grpc.RpcError as exc:
            assert exc.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.INVALID_ARGUMENT)
        else:
            response_class(rpc).FromString(answer)  # what came back is a valid response
    stub = host.stub()
    assert stub.OsirixVersion(Empty()).status.status == 1
    channel.close()
