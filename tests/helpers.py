"""Helpers shared by the test rooms (fixtures live in ``conftest.py``)."""

from __future__ import annotations

from typing import Any


def ok(response: Any) -> Any:
    """The response, after asserting that OsiriX answered status 1 (the message is the assertion's)."""
    assert response.status.status == 1, response.status.message
    return response


def copy_series(source: list[Any], folder: Any, tag: str, **tags: Any) -> list[Any]:
    """Rewrite DICOM files into ``folder`` as a series of their own (new study, series and instance
    UIDs derived from ``tag``), with ``tags`` set (``None`` deletes a tag); returns the new paths."""
    from pathlib import Path

    import pydicom
    from pydicom.uid import generate_uid

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    study, series = generate_uid(entropy_srcs=[tag, "study"]), generate_uid(entropy_srcs=[tag, "series"])
    for index, path in enumerate(source):
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(entropy_srcs=[tag, str(index)])
        for keyword, value in tags.items():
            if value is None:
                if keyword in ds:
                    delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
        target = out / Path(path).name
        ds.save_as(target)
        written.append(target)
    return written
