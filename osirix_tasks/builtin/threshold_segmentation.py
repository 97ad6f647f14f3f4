"""Image task: a threshold segmentation of the viewer's series, saved as a DICOM SEG and shown as ROIs."""

from __future__ import annotations

from ..context import TaskContext
from ..decorators import osirix_task


@osirix_task(type="Image", name="Threshold segmentation")
def threshold_segmentation(context: TaskContext) -> None:
    """Segment the pixels at or above a value (first argument; default: mean + 1 SD of the series) and
    save them as a SEG (label 'Above <value>') in the database, shown as brush ROIs."""
    import numpy as np
    from osirixgrpc import viewercontroller_pb2

    connection = context.connection
    request = viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=context.viewer, movie_idx=0)
    pixes = list(connection.call("ViewerControllerPixList", request).pix)
    volume = connection.volume(pixes)
    if volume.ndim != 3:
        raise ValueError("the series is RGB; the threshold segmentation works on greyscale images")
    threshold = float(context.args[0]) if context.args else float(volume.mean() + volume.std())
    labels = (volume >= threshold).astype(np.uint8)
    if not labels.any():
        raise ValueError(f"no pixel is at or above {threshold:g}: nothing to segment - give a lower value")
    saved = context.save_segmentation(labels, [f"Above {threshold:g}"], series_description="Threshold segmentation")
    print(
        f"Segmented {int(labels.sum())} pixels at or above {threshold:g} on {int(labels.any(axis=(1, 2)).sum())} "
        f"slice(s); SEG {saved.sop_instance_uid} saved, {len(saved.rois)} ROI(s) drawn"
    )
