"""Issue 18 item 11: studies and series without a name, as OsiriX names them, and our tools surviving
any attribute OsiriX does not have.

OsiriX names what a file leaves unnamed when it reads it (Horos ``DicomFileDCMTKCategory.mm``): a
patient without a PatientName (absent or empty) is "No name"; a study without a StudyDescription
takes the first ProcedureCodeSequence item's CodeMeaning, else "unnamed"; a series without a
SeriesDescription takes PerformedProcedureStepDescription, then AcquisitionDeviceProcessingDescription,
else "unnamed". Before, such a study made ``db studies`` / ``db series`` exit 1
(``DicomStudyName: Study name not available``) and crashed the builtin Selection report, the
``new-pack`` template and the fixtures.

A real OsiriX can still answer ``... not available`` (a name it holds as nil); so can the embedded one
for a database indexed by an older version. That case is made for real here: the index's names are
blanked with SQLite before the host starts, and every tool must still list and report.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from osirixgrpc.utilities_pb2 import Empty
from pydicom.dataset import Dataset

from osirix_tasks.emulator.database.demo import generate_demo_series
from osirix_tasks.testing import RunningHost, isolated_env, running_host
from tests.helpers import copy_series, ok

_NO_DESCRIPTIONS = {"StudyDescription": None, "SeriesDescription": None}


def procedure(meaning: str) -> list[Dataset]:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "X1", "99LOCAL", meaning
    return [item]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two unnamed studies: PatientName empty (no descriptions at all), and PatientName absent (the
    study and series named by the fallbacks OsiriX reads)."""
    root = tmp_path_factory.mktemp("unnamed")
    demo = generate_demo_series(root / "demo")[:3]
    copy_series(demo, root / "data" / "empty", "empty", PatientName="", **_NO_DESCRIPTIONS)
    copy_series(
        demo,
        root / "data" / "absent",
        "absent",
        PatientName=None,
        StudyDescription=None,
        ProcedureCodeSequence=procedure("MR BRAIN routine"),
        SeriesDescription=None,
        PerformedProcedureStepDescription="pps step",
    )
    return root / "data"


@pytest.fixture(scope="module")
def host(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    with running_host(tmp_path_factory.mktemp("home"), "--import", str(data)) as running:
        yield running


@pytest.fixture(scope="module")
def old_index_host(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A host on a database whose index holds no names at all (as an older version indexed it)."""
    home = tmp_path_factory.mktemp("home")
    database = home / "db"
    imported = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", "import", str(data), "--database", str(database)],
        capture_output=True,
        text=True,
        env=isolated_env(home),
        timeout=120,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    with sqlite3.connect(database / "index.sqlite") as conn:
        conn.execute("UPDATE studies SET patient_name = '', study_description = '', patient_id = ''")
        conn.execute("UPDATE series SET description = '', modality = ''")
    with running_host(home, database=database) as running:
        yield running


def studies(stub: Any) -> list[Any]:
    browser = ok(stub.OsirixCurrentBrowser(Empty())).browser_controller
    return list(ok(stub.BrowserControllerDatabaseStudies(browser)).studies)


def test_osirix_names_what_the_files_leave_unnamed(host: RunningHost) -> None:
    stub = host.stub()
    found = {}
    for study in studies(stub):
        [series] = ok(stub.DicomStudySeries(study)).series
        found[ok(stub.DicomStudyStudyName(study)).study_name] = (
            ok(stub.DicomStudyName(study)).name,
            ok(stub.DicomSeriesName(series)).name,
        )
    assert found == {
        "Unnamed": ("No name", "unnamed"),  # DicomStudyStudyName capitalises each word, as OsiriX shows it
        "Mr Brain Routine": ("No name", "pps step"),
    }


def test_db_listings_list_unnamed_studies(host: RunningHost) -> None:
    listed = host.cli("db", "studies")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert listed.stdout.count("No name") == 2

    series = host.cli("db", "series")
    assert series.returncode == 0, series.stdout + series.stderr
    assert "unnamed" in series.stdout and "pps step" in series.stdout


def run_report(host: RunningHost) -> subprocess.CompletedProcess[str]:
    uids = [line.split()[-1] for line in host.cli("db", "studies").stdout.splitlines() if "StudyInstanceUID" in line]
    assert len(uids) == 2
    selected = host.cli("select", "--study", uids[0], "--study", uids[1])
    assert selected.returncode == 0, selected.stdout + selected.stderr
    return host.cli("run", "Selection report", timeout=180)


def test_the_selection_report_reports_unnamed_studies(host: RunningHost) -> None:
    report = run_report(host)
    assert report.returncode == 0, report.stdout + report.stderr
    assert report.stdout.count("patient 'No name'") == 2


def test_every_tool_survives_names_osirix_does_not_have(old_index_host: RunningHost, tmp_path: Path) -> None:
    stub = old_index_host.stub()
    [first, _] = studies(stub)
    assert stub.DicomStudyName(first).status.message == "Study name not available"  # as the plugin says

    listed = old_index_host.cli("db", "studies")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert listed.stdout.count("(no name)") == 2
    assert old_index_host.cli("db", "series").returncode == 0

    report = run_report(old_index_host)
    assert report.returncode == 0, report.stdout + report.stderr
    assert report.stdout.count("patient '(no name)'") == 2

    # The new-pack template's Database task, run as a script against the same host.
    assert old_index_host.cli("new-pack", "unnamed-check", "--dir", str(tmp_path)).returncode == 0
    tasks_file = tmp_path / "unnamed-check" / "src" / "unnamed_check" / "tasks.py"
    script = tmp_path / "run_template.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import importlib.util
            import osirix_tasks
            spec = importlib.util.spec_from_file_location("template_tasks", {str(tasks_file)!r})
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            module.list_studies(osirix_tasks.context("Database"))
            """
        )
    )
    ran = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=old_index_host.env(OSIRIX_TASKS_SERVER=old_index_host.address),
        timeout=120,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert ran.stdout.count("(no name)") == 2


def test_the_fixtures_load_unnamed_studies(data: Path, tmp_path: Path) -> None:
    """A pack author's test on data without names: the ``osirix`` and ``osirix_viewer`` fixtures."""
    test_file = tmp_path / "test_unnamed_data.py"
    test_file.write_text(
        textwrap.dedent(
            """
            def test_lists_and_opens(osirix, osirix_viewer):
                names = sorted(study.patient_name for study in osirix.studies())
                assert names == ["No name", "No name"], names
                assert len(osirix.series()) == 2
            """
        )
    )
    ran = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file), "--osirix-data", str(data)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=isolated_env(tmp_path / "home"),
        timeout=300,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
