"""Fixtures of the DICOM node's tests (helpers in ``peers.py``)."""

from __future__ import annotations

import shutil

import pytest

from .peers import TOOLS, SampleSet, make_sample_set

_MISSING = [tool for tool in TOOLS if shutil.which(tool) is None]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without dcmtk and Orthanc (Debian packages; .ci/run installs them) these tests cannot run."""
    if _MISSING:
        for item in items:
            if "tests/dicomnode/" in str(item.fspath) and "test_settings" not in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=f"not installed: {', '.join(_MISSING)} (dcmtk, orthanc)"))


@pytest.fixture(scope="session")
def sample_set(tmp_path_factory: pytest.TempPathFactory) -> SampleSet:
    """The mixed set of DICOM files (:func:`peers.make_sample_set`), made once."""
    return make_sample_set(tmp_path_factory.mktemp("samples"))
