"""``VRController*`` and ``ROIVolume*`` RPCs: 3D windows and their ROI volumes
(``gRPCVRControllerDelegate.mm``, ``gRPCROIVolumeDelegate.mm``, Horos ``ROIVolume.mm``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import OsirixError
from ..protocol import implements, ok
from ..state import OsirixState
from ..workspace import RoiVolume, VRController
from .tables import field, fields, finite, getters, ref, refs, setters


def _vr(state: OsirixState, ref_: Any) -> VRController:
    vr: VRController = state.live(ref_, "VRController")
    return vr


def _volume(state: OsirixState, ref_: Any) -> RoiVolume:
    volume: RoiVolume = state.live(ref_, "ROIVolume")
    return volume


def _float(value: float, what: str) -> float:
    """A value OsiriX keeps as a float."""
    return float(np.float32(finite(value, what)))


def _blending(state: OsirixState, vr: VRController) -> dict[str, Any]:
    """The viewer fused with the 2D viewer when the window opened; status 1 and no viewer when none."""
    if vr.blending is None or vr.blending.closed:
        return {}
    return {"viewer_controller": state.ref("ViewerController", vr.blending)}


def _roi_volumes(state: OsirixState, vr: VRController) -> list[RoiVolume]:
    with state.lock:
        return vr.roi_volumes()


def _set_rendering_mode(vr: VRController, request: Any) -> None:
    if request.rendering_mode not in ("MIP", "VR"):
        raise OsirixError("Invalid rendering mode")
    vr.mode = request.rendering_mode


def _set_wlww(vr: VRController, request: Any) -> None:
    vr.wl, vr.ww = _float(request.wl, "wl"), _float(request.ww, "ww")


def _set_color(volume: RoiVolume, request: Any) -> None:
    volume.color = (_float(request.r, "r"), _float(request.g, "g"), _float(request.b, "b"))


def _set_opacity(volume: RoiVolume, request: Any) -> None:
    volume.opacity = _float(request.opacity, "opacity")


def _set_factor(volume: RoiVolume, request: Any) -> None:
    volume.factor = _float(request.factor, "factor")


def _set_texture(volume: RoiVolume, request: Any) -> None:
    volume.texture = bool(request.texture)


getters(
    _vr,
    {
        "VRControllerViewer2D": ref("viewer_controller", "ViewerController", lambda vr: vr.viewer),
        "VRControllerBlendingController": _blending,
        "VRControllerStyle": field("style", lambda vr: vr.style),
        "VRControllerTitle": field("title", lambda vr: vr.title()),
        "VRControllerROIVolumes": refs("roi_volumes", "ROIVolume", _roi_volumes),
        "VRControllerRenderingMode": field("rendering_mode", lambda vr: vr.mode),
        "VRControllerWLWW": fields(wl=lambda vr: vr.wl, ww=lambda vr: vr.ww),
        "VRControllerNeedsDisplayUpdate": lambda state, vr: {},
    },
)

setters(
    _vr,
    "vr_controller",
    {
        "VRControllerSetRenderingMode": _set_rendering_mode,
        "VRControllerSetWLWW": _set_wlww,
    },
)

getters(
    _volume,
    {
        "ROIVolumeName": field("name", lambda volume: volume.name),
        "ROIVolumeVolume": field("volume", lambda volume: volume.volume_cm3()),
        "ROIVolumeColor": fields(r=lambda v: v.color[0], g=lambda v: v.color[1], b=lambda v: v.color[2]),
        "ROIVolumeOpacity": field("opacity", lambda volume: volume.opacity),
        "ROIVolumeFactor": field("factor", lambda volume: volume.factor),
        "ROIVolumeTexture": field("texture", lambda volume: volume.texture),
        "ROIVolumeVisible": field("visible", lambda volume: volume.visible),
    },
)

setters(
    _volume,
    "roi",
    {
        "ROIVolumeSetColor": _set_color,
        "ROIVolumeSetOpacity": _set_opacity,
        "ROIVolumeSetFactor": _set_factor,
        "ROIVolumeSetTexture": _set_texture,
    },
)


def _show(state: OsirixState, request: Any, visible: bool) -> None:
    """The plugin checks the 3D window, then the ROI volume (ours: it must be that window's)."""
    vr = _vr(state, request.vr_controller)
    volume = _volume(state, request.roi_volume)
    if volume.vr is not vr:
        raise OsirixError("The ROIVolume belongs to another VRController: use one of this window's ROI volumes")
    volume.visible = visible


@implements
def VRControllerDisplayROIVolume(state: OsirixState, request: Any) -> Any:
    """Show an ROI volume."""
    _show(state, request, True)
    return ok("VRControllerDisplayROIVolume")


@implements
def VRControllerHideROIVolume(state: OsirixState, request: Any) -> Any:
    """Hide an ROI volume."""
    _show(state, request, False)
    return ok("VRControllerHideROIVolume")
