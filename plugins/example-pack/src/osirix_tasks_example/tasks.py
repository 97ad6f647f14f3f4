"""The pack's tasks: plain functions with @osirix_task."""

from __future__ import annotations

import numpy as np
from osirixgrpc import dcmpix_pb2

from osirix_tasks import TaskContext, osirix_task
from osirix_tasks.client import check


@osirix_task(type="Image", name="Invert window")
def invert(context: TaskContext) -> None:
    """Invert the displayed slice's intensities around its mid-range."""
    stub = context.stub
    image = check(stub.DCMPixImage(context.pix), "DCMPixImage")
    values = np.asarray(image.image_data_float, dtype=np.float32)
    inverted = values.max() + values.min() - values
    request = dcmpix_pb2.DCMPixSetImageRequest(pix=context.pix)
    request.image_data_float.extend(inverted.tolist())
    check(stub.DCMPixSetImage(request), "DCMPixSetImage")
    print(f"Inverted {values.size} pixels")


@osirix_task(type="Database", name="Count studies")
def count_studies(context: TaskContext) -> None:
    """Print how many studies the database holds."""
    studies = check(context.stub.BrowserControllerDatabaseStudies(context.browser)).studies
    print(f"{len(studies)} studies in the database")
