"""VRController task: switch the frontmost 3D window between VR and MIP rendering."""

from __future__ import annotations

from ..client import check
from ..context import TaskContext
from ..decorators import osirix_task


@osirix_task(type="VRController", name="Toggle VR/MIP")
def toggle_render_mode(context: TaskContext) -> None:
    """Switch the 3D window's rendering mode: VR becomes MIP, MIP becomes VR."""
    from osirixgrpc import vrcontroller_pb2

    stub = context.stub
    vr = context.vr_controller
    current = check(stub.VRControllerRenderingMode(vr), "VRControllerRenderingMode").rendering_mode
    target = "MIP" if current == "VR" else "VR"
    request = vrcontroller_pb2.VRControllerSetRenderingModeRequest(vr_controller=vr, rendering_mode=target)
    check(stub.VRControllerSetRenderingMode(request), "VRControllerSetRenderingMode")
    print(f"Rendering mode: {current} -> {target}")
