"""``DicomStudy*``, ``DicomSeries*`` and ``DicomImage*`` RPCs: OsiriX's database model."""

from __future__ import annotations

from typing import Any

from .conventions import (
    image_datetime,
    modalities,
    patient_uid,
    sort_series,
    sorted_images,
    study_datetime,
    study_name,
)
from .dates import birth_components, date_components
from .protocol import RpcFailure, implements, ok
from .state import OsirixState


def _available(value: str | None, thing: str) -> str:
    if not value:
        raise RpcFailure(f"{thing} not available")
    return value


# --- DicomStudy ------------------------------------------------------------------------------


@implements
def DicomStudyName(state: OsirixState, request: Any) -> Any:
    """The patient name."""
    return ok("DicomStudyName", name=state.study(request).patient_name)


@implements
def DicomStudyPatientID(state: OsirixState, request: Any) -> Any:
    """PatientID."""
    return ok("DicomStudyPatientID", patient_id=_available(state.study(request).patient_id, "Patient ID"))


@implements
def DicomStudyPatientSex(state: OsirixState, request: Any) -> Any:
    """PatientSex."""
    return ok("DicomStudyPatientSex", patient_sex=_available(state.study(request).patient_sex, "Patient sex"))


@implements
def DicomStudyPatientUID(state: OsirixState, request: Any) -> Any:
    """OsiriX's patient key."""
    return ok("DicomStudyPatientUID", patient_uid=patient_uid(state.study(request)))


@implements
def DicomStudyDateOfBirth(state: OsirixState, request: Any) -> Any:
    """Year, month, day of birth."""
    parts = birth_components(state.study(request).patient_birth_date)
    if parts is None:
        raise RpcFailure("Date of birth not available")
    return ok("DicomStudyDateOfBirth", **parts)


@implements
def DicomStudyStudyName(state: OsirixState, request: Any) -> Any:
    """The study description, each word capitalised."""
    study = state.study(request)
    return ok("DicomStudyStudyName", study_name=_available(study_name(study), "Study name"))


@implements
def DicomStudyStudyInstanceUID(state: OsirixState, request: Any) -> Any:
    """StudyInstanceUID."""
    return ok("DicomStudyStudyInstanceUID", study_instance_uid=state.study(request).study_instance_uid)


@implements
def DicomStudyDate(state: OsirixState, request: Any) -> Any:
    """The earliest acquisition date-time of the study's images."""
    study = state.study(request)
    date = study_datetime(state.db.images_of_study(study.id))
    if date is None:
        raise RpcFailure("Study date not available")
    return ok("DicomStudyDate", **date_components(date))


@implements
def DicomStudyDateAdded(state: OsirixState, request: Any) -> Any:
    """When the study was imported (local time, to the millisecond)."""
    import datetime as dt

    moment = dt.datetime.fromtimestamp(round(state.study(request).date_added, 3))
    return ok("DicomStudyDateAdded", **date_components(moment))


@implements
def DicomStudyInstitutionName(state: OsirixState, request: Any) -> Any:
    """InstitutionName."""
    value = _available(state.study(request).institution_name, "Institution name")
    return ok("DicomStudyInstitutionName", institution_name=value)


@implements
def DicomStudyReferringPhysician(state: OsirixState, request: Any) -> Any:
    """ReferringPhysicianName."""
    value = _available(state.study(request).referring_physician, "Referring physician")
    return ok("DicomStudyReferringPhysician", referring_physician=value)


@implements
def DicomStudyPerformingPhysician(state: OsirixState, request: Any) -> Any:
    """PerformingPhysicianName."""
    value = _available(state.study(request).performing_physician, "Performing physician")
    return ok("DicomStudyPerformingPhysician", performing_physician=value)


@implements
def DicomStudyModality(state: OsirixState, request: Any) -> Any:
    """The study's modality (that of its first imported file)."""
    return ok("DicomStudyModality", modality=state.study(request).modality)


@implements
def DicomStudyModalities(state: OsirixState, request: Any) -> Any:
    """The modalities of its series, joined by a backslash."""
    study = state.study(request)
    return ok("DicomStudyModalities", modalities=modalities(state.db.series_of(study.id)))


@implements
def DicomStudySeries(state: OsirixState, request: Any) -> Any:
    """The study's series, in the browser's order."""
    study = state.study(request)
    return ok(
        "DicomStudySeries", series=[state.ref("DicomSeries", s.id) for s in sort_series(state.db.series_of(study.id))]
    )


@implements
def DicomStudyImages(state: OsirixState, request: Any) -> Any:
    """Every image of the study, series by series."""
    study = state.study(request)
    images = [i for s in sort_series(state.db.series_of(study.id)) for i in sorted_images(state.db.images_of(s.id))]
    return ok("DicomStudyImages", images=[state.ref("DicomImage", i.id) for i in images])


@implements
def DicomStudyPaths(state: OsirixState, request: Any) -> Any:
    """The files of the study's images."""
    study = state.study(request)
    return ok("DicomStudyPaths", paths=[i.path for i in state.db.images_of_study(study.id)])


@implements
def DicomStudyNoFiles(state: OsirixState, request: Any) -> Any:
    """Number of images, one per frame (OsiriX's noFiles: non-image objects not counted)."""
    images = state.db.images_of_study(state.study(request).id)
    return ok("DicomStudyNoFiles", no_files=sum(1 for i in images if i.is_image))


@implements
def DicomStudyRawNoFiles(state: OsirixState, request: Any) -> Any:
    """Number of files."""
    images = state.db.images_of_study(state.study(request).id)
    return ok("DicomStudyRawNoFiles", no_files=len({i.path for i in images}))


@implements
def DicomStudyNumberOfImages(state: OsirixState, request: Any) -> Any:
    """Number of image objects."""
    return ok("DicomStudyNumberOfImages", no_images=len(state.db.images_of_study(state.study(request).id)))


# --- DicomSeries -----------------------------------------------------------------------------


@implements
def DicomSeriesSeriesInstanceUID(state: OsirixState, request: Any) -> Any:
    """OsiriX's series identifier (``UID TE-<echo>`` for MR with an echo time)."""
    return ok("DicomSeriesSeriesInstanceUID", series_instance_uid=state.series(request).series_key)


@implements
def DicomSeriesSeriesSOPClassUID(state: OsirixState, request: Any) -> Any:
    """SOPClassUID of the series' images."""
    return ok("DicomSeriesSeriesSOPClassUID", series_sop_class_uid=state.series(request).sop_class_uid)


@implements
def DicomSeriesSeriesDescription(state: OsirixState, request: Any) -> Any:
    """SeriesDescription."""
    return ok("DicomSeriesSeriesDescription", series_description=state.series(request).description)


@implements
def DicomSeriesName(state: OsirixState, request: Any) -> Any:
    """OsiriX's series name: the description, ``unnamed`` when there is none."""
    return ok("DicomSeriesName", name=state.series(request).description or "unnamed")


@implements
def DicomSeriesModality(state: OsirixState, request: Any) -> Any:
    """Modality."""
    return ok("DicomSeriesModality", modality=state.series(request).modality)


@implements
def DicomSeriesDate(state: OsirixState, request: Any) -> Any:
    """Acquisition date-time of the series' first image in OsiriX's order."""
    images = sorted_images(state.db.images_of(state.series(request).id))
    moment = image_datetime(images[0]) if images else None
    if moment is None:
        raise RpcFailure("Series date not available")
    return ok("DicomSeriesDate", **date_components(moment))


@implements
def DicomSeriesNumberOfImages(state: OsirixState, request: Any) -> Any:
    """Number of images."""
    return ok("DicomSeriesNumberOfImages", number_of_images=len(state.db.images_of(state.series(request).id)))


@implements
def DicomSeriesImages(state: OsirixState, request: Any) -> Any:
    """The images, by instance number."""
    images = sorted(
        state.db.images_of(state.series(request).id),
        key=lambda i: (i.instance_number is None, i.instance_number or 0, i.id),
    )
    return ok("DicomSeriesImages", images=[state.ref("DicomImage", i.id) for i in images])


@implements
def DicomSeriesSortedImages(state: OsirixState, request: Any) -> Any:
    """The images in OsiriX's display order (position along the slice normal)."""
    images = sorted_images(state.db.images_of(state.series(request).id))
    return ok("DicomSeriesSortedImages", sorted_images=[state.ref("DicomImage", i.id) for i in images])


@implements
def DicomSeriesPaths(state: OsirixState, request: Any) -> Any:
    """The files of the series."""
    images = sorted_images(state.db.images_of(state.series(request).id))
    return ok("DicomSeriesPaths", paths=[i.path for i in images])


@implements
def DicomSeriesStudy(state: OsirixState, request: Any) -> Any:
    """The study the series belongs to."""
    return ok("DicomSeriesStudy", study=state.ref("DicomStudy", state.series(request).study_id))


def _neighbour(state: OsirixState, request: Any, step: int) -> Any:
    series = state.series(request)
    ordered = sort_series(state.db.series_of(series.study_id))
    index = [s.id for s in ordered].index(series.id) + step
    if not 0 <= index < len(ordered):
        return None
    return state.ref("DicomSeries", ordered[index].id)


@implements
def DicomSeriesNextSeries(state: OsirixState, request: Any) -> Any:
    """The next series of the study."""
    found = _neighbour(state, request, 1)
    if found is None:
        raise RpcFailure("No next series")
    return ok("DicomSeriesNextSeries", next_series=found)


@implements
def DicomSeriesPreviousSeries(state: OsirixState, request: Any) -> Any:
    """The previous series of the study."""
    found = _neighbour(state, request, -1)
    if found is None:
        raise RpcFailure("No previous series")
    return ok("DicomSeriesPreviousSeries", previous_series=found)


# --- DicomImage ------------------------------------------------------------------------------


@implements
def DicomImageWidth(state: OsirixState, request: Any) -> Any:
    """Columns."""
    return ok("DicomImageWidth", width=state.image(request).columns)


@implements
def DicomImageHeight(state: OsirixState, request: Any) -> Any:
    """Rows."""
    return ok("DicomImageHeight", height=state.image(request).rows)


@implements
def DicomImageSOPInstanceUID(state: OsirixState, request: Any) -> Any:
    """SOPInstanceUID."""
    return ok("DicomImageSOPInstanceUID", sop_instance_uid=state.image(request).sop_instance_uid)


@implements
def DicomImageCompletePath(state: OsirixState, request: Any) -> Any:
    """The file inside the database."""
    return ok("DicomImageCompletePath", complete_path=state.image(request).path)


@implements
def DicomImageDate(state: OsirixState, request: Any) -> Any:
    """AcquisitionDate + AcquisitionTime."""
    moment = image_datetime(state.image(request))
    if moment is None:
        raise RpcFailure("Image date not available")
    return ok("DicomImageDate", **date_components(moment))


@implements
def DicomImageNumberOfFrames(state: OsirixState, request: Any) -> Any:
    """NumberOfFrames (1 for single-frame images)."""
    return ok("DicomImageNumberOfFrames", number_of_frames=state.image(request).number_of_frames)


@implements
def DicomImageModality(state: OsirixState, request: Any) -> Any:
    """Modality."""
    return ok("DicomImageModality", modality=state.image(request).modality)


@implements
def DicomImageSeries(state: OsirixState, request: Any) -> Any:
    """The series the image belongs to."""
    return ok("DicomImageSeries", series=state.ref("DicomSeries", state.image(request).series_id))


@implements
def DicomImageSliceLocation(state: OsirixState, request: Any) -> Any:
    """OsiriX's stored slice location (the position on the axis that dominates the normal, frames.py)."""
    image = state.image(request)
    return ok("DicomImageSliceLocation", slice_location=image.slice_location or 0.0)


@implements
def DicomImageInstanceNumber(state: OsirixState, request: Any) -> Any:
    """InstanceNumber (0 when absent)."""
    return ok("DicomImageInstanceNumber", instance_number=max(0, state.image(request).instance_number or 0))
