"""Database task: report the studies and series selected in the database browser."""

from __future__ import annotations

from typing import Any

from ..client import check, value_or
from ..context import TaskContext
from ..decorators import osirix_task


@osirix_task(type="Database", name="Selection report")
def selection_report(context: TaskContext) -> None:
    """Print patient, study, date and image counts of the selected studies and series.

    What OsiriX may not have (``... not available``) is printed as ``(no name)``, ``(none)`` or 0."""
    stub = context.stub
    if not context.studies and not context.series:
        print("Nothing is selected in the database browser.")
        return
    for study in context.studies:
        name = value_or(stub.DicomStudyName(study), "name") or "(no name)"
        title = value_or(stub.DicomStudyStudyName(study), "study_name") or "(none)"
        images = value_or(stub.DicomStudyNumberOfImages(study), "no_images", 0)
        series = check(stub.DicomStudySeries(study), "DicomStudySeries").series
        print(f"Study: {title!r} - patient {name!r} - {len(series)} series, {images} images")
        for item in series:
            _print_series(stub, item, indent="  ")
    for item in context.series:
        _print_series(stub, item, indent="")


def _print_series(stub: Any, series: Any, indent: str) -> None:
    describe = value_or(stub.DicomSeriesSeriesDescription(series), "series_description") or "(none)"
    modality = value_or(stub.DicomSeriesModality(series), "modality") or "?"
    count = value_or(stub.DicomSeriesNumberOfImages(series), "number_of_images", 0)
    print(f"{indent}Series: {describe!r} ({modality}), {count} images")
