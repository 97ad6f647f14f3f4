"""``VRController*`` and ``ROIVolume*`` RPCs: 3D windows and their ROI volumes."""

from __future__ import annotations

import math
from typing import Any

from .protocol import RpcFailure, implements, ok
from .state import OsirixState
from .workspace import RoiVolume, VRController


def _vr(state: OsirixState, ref: Any) -> VRController:
    vr: VRController = state.live(ref, "VRController")
    return vr


def _volume(state: OsirixState, ref: Any) -> RoiVolume:
    volume: RoiVolume = state.live(ref, "ROIVolume")
    return volume


def _unit(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise RpcFailure(f"{what} must be a finite number, got {value}")
    return min(1.0, max(0.0, value))


@implements
def VRControllerViewer2D(state: OsirixState, request: Any) -> Any:
    """The 2D viewer the 3D window came from."""
    return ok("VRControllerViewer2D", viewer_controller=state.ref("ViewerController", _vr(state, request).viewer))


@implements
def VRControllerBlendingController(state: OsirixState, request: Any) -> Any:
    """The 2D viewer fused with the 3D window's viewer."""
    blending = _vr(state, request).viewer.blending
    if blending is None or blending.closed:
        raise RpcFailure("No blending controller")
    return ok("VRControllerBlendingController", viewer_controller=state.ref("ViewerController", blending))


@implements
def VRControllerStyle(state: OsirixState, request: Any) -> Any:
    """OsiriX's window style name."""
    return ok("VRControllerStyle", style=_vr(state, request).style)


@implements
def VRControllerTitle(state: OsirixState, request: Any) -> Any:
    """``3D Reconstruction: ...``."""
    return ok("VRControllerTitle", title=_vr(state, request).title())


@implements
def VRControllerROIVolumes(state: OsirixState, request: Any) -> Any:
    """One ROI volume per ROI name drawn on several slices."""
    vr = _vr(state, request)
    with state.lock:
        volumes = vr.roi_volumes()
    return ok("VRControllerROIVolumes", roi_volumes=[state.ref("ROIVolume", v) for v in volumes])


@implements
def VRControllerRenderingMode(state: OsirixState, request: Any) -> Any:
    """``VR`` or ``MIP``."""
    return ok("VRControllerRenderingMode", rendering_mode=_vr(state, request).mode)


@implements
def VRControllerSetRenderingMode(state: OsirixState, request: Any) -> Any:
    """Switch between ``VR`` and ``MIP``."""
    vr = _vr(state, request.vr_controller)
    if request.rendering_mode not in ("VR", "MIP"):
        raise RpcFailure("Invalid rendering mode")
    vr.mode = request.rendering_mode
    return ok("VRControllerSetRenderingMode")


@implements
def VRControllerWLWW(state: OsirixState, request: Any) -> Any:
    """Window level and width of the 3D window."""
    vr = _vr(state, request)
    return ok("VRControllerWLWW", wl=vr.wl, ww=vr.ww)


@implements
def VRControllerSetWLWW(state: OsirixState, request: Any) -> Any:
    """Set window level and width."""
    vr = _vr(state, request.vr_controller)
    if not (math.isfinite(request.wl) and math.isfinite(request.ww)):
        raise RpcFailure(f"wl and ww must be finite numbers, got {request.wl}, {request.ww}")
    vr.wl, vr.ww = request.wl, request.ww
    return ok("VRControllerSetWLWW")


def _owned(state: OsirixState, request: Any) -> RoiVolume:
    vr = _vr(state, request.vr_controller)
    volume = _volume(state, request.roi_volume)
    if volume.vr is not vr:
        raise RpcFailure("The ROIVolume belongs to another VRController")
    return volume


@implements
def VRControllerDisplayROIVolume(state: OsirixState, request: Any) -> Any:
    """Show an ROI volume."""
    _owned(state, request).visible = True
    return ok("VRControllerDisplayROIVolume")


@implements
def VRControllerHideROIVolume(state: OsirixState, request: Any) -> Any:
    """Hide an ROI volume."""
    _owned(state, request).visible = False
    return ok("VRControllerHideROIVolume")


@implements
def VRControllerNeedsDisplayUpdate(state: OsirixState, request: Any) -> Any:
    """Redraw (nothing to draw here; the uid is checked)."""
    _vr(state, request)
    return ok("VRControllerNeedsDisplayUpdate")


@implements
def ROIVolumeName(state: OsirixState, request: Any) -> Any:
    """The ROI name the volume is built from."""
    return ok("ROIVolumeName", name=_volume(state, request).name)


@implements
def ROIVolumeVolume(state: OsirixState, request: Any) -> Any:
    """Volume in cm3."""
    volume = _volume(state, request)
    with state.lock:
        return ok("ROIVolumeVolume", volume=volume.volume_cm3())


@implements
def ROIVolumeColor(state: OsirixState, request: Any) -> Any:
    """Colour, r g b in 0-1."""
    r, g, b = _volume(state, request).color
    return ok("ROIVolumeColor", r=r, g=g, b=b)


@implements
def ROIVolumeSetColor(state: OsirixState, request: Any) -> Any:
    """Set the colour (0-1 per channel)."""
    volume = _volume(state, request.roi)
    volume.color = (_unit(request.r, "r"), _unit(request.g, "g"), _unit(request.b, "b"))
    return ok("ROIVolumeSetColor")


@implements
def ROIVolumeOpacity(state: OsirixState, request: Any) -> Any:
    """Opacity 0-1."""
    return ok("ROIVolumeOpacity", opacity=_volume(state, request).opacity)


@implements
def ROIVolumeSetOpacity(state: OsirixState, request: Any) -> Any:
    """Set the opacity."""
    _volume(state, request.roi).opacity = _unit(request.opacity, "opacity")
    return ok("ROIVolumeSetOpacity")


@implements
def ROIVolumeFactor(state: OsirixState, request: Any) -> Any:
    """Factor 0-1."""
    return ok("ROIVolumeFactor", factor=_volume(state, request).factor)


@implements
def ROIVolumeSetFactor(state: OsirixState, request: Any) -> Any:
    """Set the factor."""
    _volume(state, request.roi).factor = _unit(request.factor, "factor")
    return ok("ROIVolumeSetFactor")


@implements
def ROIVolumeTexture(state: OsirixState, request: Any) -> Any:
    """Whether the volume is drawn with texture."""
    return ok("ROIVolumeTexture", texture=_volume(state, request).texture)


@implements
def ROIVolumeSetTexture(state: OsirixState, request: Any) -> Any:
    """Set texture on or off."""
    _volume(state, request.roi).texture = bool(request.texture)
    return ok("ROIVolumeSetTexture")


@implements
def ROIVolumeVisible(state: OsirixState, request: Any) -> Any:
    """Whether the volume is displayed."""
    return ok("ROIVolumeVisible", visible=_volume(state, request).visible)
