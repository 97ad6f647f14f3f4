"""Database task: report the studies and series selected in the database browser."""

from __future__ import annotations

from typing import Any

from ..client import check
from ..decorators import osirix_task
from ..model import TaskContext


@osirix_task(type="Database", name="Selection report")
def selection_report(context: TaskContext) -> None:
    """Print patient, study, date and image counts of the selected studies and series."""
    stub = context.stub
    if not context.studies and not context.series:
        print("Nothing is selected in the database browser.")
        return
    for study in context.studies:
        name = check(stub.DicomStudyName(study), "DicomStudyName").name
        title = check(stub.DicomStudyStudyName(study), "DicomStudyStudyName").study_name
        images = check(stub.DicomStudyNumberOfImages(study), "DicomStudyNumberOfImages").no_images
        series = check(stub.DicomStudySeries(study), "DicomStudySeries").series
        print(f"Study: {title!r} - patient {name!r} - {len(series)} series, {images} images")
        for item in series:
            _print_series(stub, item, indent="  ")
    for item in context.series:
        _print_series(stub, item, indent="")


def _print_series(stub: Any, series: Any, indent: str) -> None:
    describe = check(stub.DicomSeriesSeriesDescription(series), "DicomSeriesSeriesDescription")
    modality = check(stub.DicomSeriesModality(series), "DicomSeriesModality")
    count = check(stub.DicomSeriesNumberOfImages(series), "DicomSeriesNumberOfImages")
    print(f"{indent}Series: {describe.series_description!r} ({modality.modality}), {count.number_of_images} images")
