"""``DicomStudy*``, ``DicomSeries*`` and ``DicomImage*`` RPCs: OsiriX's database model
(``gRPCDicomStudyDelegate.mm``, ``gRPCDicomSeriesDelegate.mm``, ``gRPCDicomImageDelegate.mm``).

A value OsiriX may lack answers the plugin's ``<Thing> not available`` message."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...errors import OsirixError
from ..database.conventions import (
    image_datetime,
    modalities,
    patient_uid,
    sort_series,
    sorted_images,
    study_datetime,
    study_name,
)
from ..database.dates import birth_components, date_components
from ..database.index import ImageRow, SeriesRow, StudyRow
from ..roi_store.layout import is_osirix_own_series
from ..state import OsirixState
from .tables import Reader, available, field, getters, ref, refs


def _study(state: OsirixState, ref_: Any) -> StudyRow:
    return state.study(ref_)


def _series(state: OsirixState, ref_: Any) -> SeriesRow:
    return state.series(ref_)


def _image(state: OsirixState, ref_: Any) -> ImageRow:
    return state.image(ref_)


def _date(read: Any, missing: str) -> Reader:
    """Calendar components of ``read(state, row)``; status 0 ``missing`` when there is none."""

    def reader(state: OsirixState, row: Any) -> dict[str, Any]:
        moment = read(state, row)
        if moment is None:
            raise OsirixError(missing)
        return date_components(moment)

    return reader


def _birth(state: OsirixState, study: StudyRow) -> dict[str, Any]:
    parts = birth_components(study.patient_birth_date)
    if parts is None:
        raise OsirixError("Date of birth not available")
    return parts


def _study_images(state: OsirixState, study: StudyRow) -> list[ImageRow]:
    return state.db.images_of_study(study.id)


def _series_images(state: OsirixState, series: SeriesRow) -> list[ImageRow]:
    """The images in OsiriX's display order (position along the slice normal)."""
    return sorted_images(state.db.images_of(series.id))


def _series_first_date(state: OsirixState, series: SeriesRow) -> dt.datetime | None:
    images = _series_images(state, series)
    return image_datetime(images[0]) if images else None


def _image_slice_location(image: ImageRow) -> float:
    """OsiriX's stored slice location (the position on the axis that dominates the normal, frames.py)."""
    return image.slice_location or 0.0


def _neighbour(state: OsirixState, series: SeriesRow, step: int, field_name: str, missing: str) -> dict[str, Any]:
    """Horos ``nextSeries`` / ``previousSeries`` step through the study's ``imageSeries``, which leave out
    OsiriX's own ROI, annotation and report series."""
    ordered = [s for s in sort_series(state.db.series_of(series.study_id)) if not is_osirix_own_series(s.description)]
    if series not in ordered:
        raise OsirixError(missing)
    index = [s.id for s in ordered].index(series.id) + step
    if not 0 <= index < len(ordered):
        raise OsirixError(missing)
    return {field_name: state.ref("DicomSeries", ordered[index].id)}


getters(
    _study,
    {
        "DicomStudyName": available("name", lambda s: s.patient_name, "Study name not available"),
        "DicomStudyPatientID": available("patient_id", lambda s: s.patient_id, "Patient ID not available"),
        "DicomStudyPatientSex": available("patient_sex", lambda s: s.patient_sex, "Patient sex not available"),
        "DicomStudyPatientUID": available("patient_uid", patient_uid, "Patient UID not available"),
        "DicomStudyDateOfBirth": _birth,
        "DicomStudyStudyName": available("study_name", study_name, "Study name not available"),
        "DicomStudyStudyInstanceUID": available(
            "study_instance_uid", lambda s: s.study_instance_uid, "Study instance UID not available"
        ),
        "DicomStudyDate": _date(lambda state, s: study_datetime(_study_images(state, s)), "Study date not available"),
        "DicomStudyDateAdded": _date(
            lambda state, s: dt.datetime.fromtimestamp(round(s.date_added, 3)), "Date added not available"
        ),
        "DicomStudyInstitutionName": available(
            "institution_name", lambda s: s.institution_name, "Institution name not available"
        ),
        "DicomStudyReferringPhysician": available(
            "referring_physician", lambda s: s.referring_physician, "Referring physician not available"
        ),
        "DicomStudyPerformingPhysician": available(
            "performing_physician", lambda s: s.performing_physician, "Performing physician not available"
        ),
        "DicomStudyModality": available("modality", lambda s: s.modality, "Modality not available"),
        "DicomStudyModalities": lambda state, s: {"modalities": modalities(state.db.series_of(s.id))},
        "DicomStudySeries": refs(
            "series", "DicomSeries", lambda state, s: [x.id for x in sort_series(state.db.series_of(s.id))]
        ),
        "DicomStudyImages": refs(
            "images",
            "DicomImage",
            lambda state, s: [
                i.id for x in sort_series(state.db.series_of(s.id)) for i in sorted_images(state.db.images_of(x.id))
            ],
        ),
        "DicomStudyPaths": lambda state, s: {"paths": [i.path for i in _study_images(state, s)]},
        # OsiriX's noFiles counts images, one per frame (non-image objects not counted); rawNoFiles counts files.
        "DicomStudyNoFiles": lambda state, s: {"no_files": sum(1 for i in _study_images(state, s) if i.is_image)},
        "DicomStudyRawNoFiles": lambda state, s: {"no_files": len({i.path for i in _study_images(state, s)})},
        "DicomStudyNumberOfImages": lambda state, s: {"no_images": len(_study_images(state, s))},
    },
)

getters(
    _series,
    {
        "DicomSeriesSeriesInstanceUID": field("series_instance_uid", lambda s: s.series_key),
        "DicomSeriesSeriesSOPClassUID": field("series_sop_class_uid", lambda s: s.sop_class_uid),
        # OsiriX names a series without a description "unnamed" when it reads the file.
        "DicomSeriesSeriesDescription": field("series_description", lambda s: s.description or "unnamed"),
        "DicomSeriesName": field("name", lambda s: s.description or "unnamed"),
        "DicomSeriesModality": field("modality", lambda s: s.modality),
        "DicomSeriesDate": _date(_series_first_date, "Series date not available"),
        "DicomSeriesNumberOfImages": lambda state, s: {"number_of_images": len(state.db.images_of(s.id))},
        "DicomSeriesImages": refs(
            "images",
            "DicomImage",
            lambda state, s: [
                i.id
                for i in sorted(
                    state.db.images_of(s.id), key=lambda i: (i.instance_number is None, i.instance_number or 0, i.id)
                )
            ],
        ),
        "DicomSeriesSortedImages": refs(
            "sorted_images", "DicomImage", lambda state, s: [i.id for i in _series_images(state, s)]
        ),
        "DicomSeriesPaths": lambda state, s: {"paths": [i.path for i in _series_images(state, s)]},
        "DicomSeriesStudy": ref("study", "DicomStudy", lambda s: s.study_id),
        "DicomSeriesNextSeries": lambda state, s: _neighbour(state, s, 1, "next_series", "No next series"),
        "DicomSeriesPreviousSeries": lambda state, s: _neighbour(state, s, -1, "previous_series", "No previous series"),
    },
)

getters(
    _image,
    {
        "DicomImageWidth": field("width", lambda i: i.columns),
        "DicomImageHeight": field("height", lambda i: i.rows),
        "DicomImageSOPInstanceUID": field("sop_instance_uid", lambda i: i.sop_instance_uid),
        "DicomImageCompletePath": field("complete_path", lambda i: i.path),
        "DicomImageDate": _date(lambda state, i: image_datetime(i), "Image date not available"),
        "DicomImageNumberOfFrames": field("number_of_frames", lambda i: i.number_of_frames),
        "DicomImageModality": field("modality", lambda i: i.modality),
        "DicomImageSeries": ref("series", "DicomSeries", lambda i: i.series_id),
        "DicomImageSliceLocation": field("slice_location", _image_slice_location),
        "DicomImageInstanceNumber": field("instance_number", lambda i: max(0, i.instance_number or 0)),
    },
)
