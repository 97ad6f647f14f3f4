"""ROI task: statistics of the ROIs selected in the frontmost viewer."""

from __future__ import annotations

from ..client import check
from ..context import TaskContext
from ..decorators import osirix_task


@osirix_task(type="ROI", name="ROI statistics")
def roi_statistics(context: TaskContext) -> None:
    """Print area, mean, standard deviation, min and max of each selected ROI."""
    from osirixgrpc import dcmpix_pb2

    stub = context.stub
    for roi in context.rois:
        name = check(stub.ROIName(roi), "ROIName").name
        pix = check(stub.ROIPix(roi), "ROIPix").pix
        area = check(stub.ROIArea(roi), "ROIArea").area
        stats = check(
            stub.DCMPixComputeROI(dcmpix_pb2.DCMPixComputeROIRequest(pix=pix, roi=roi)),
            "DCMPixComputeROI",
        )
        print(
            f"ROI {name!r}: area {area:.4f} cm2, mean {stats.mean:.4f}, std {stats.std_dev:.4f}, "
            f"min {stats.min:g}, max {stats.max:g}, total {stats.total:g}"
        )
