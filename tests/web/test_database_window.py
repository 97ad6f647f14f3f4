"""The database window (issue 23) in real headless Chromium against a real host: OsiriX's columns,
search, filters, sort, export, delete (with its confirmation) and an import's progress.

Three studies are generated with pydicom; expected values come from the files (pydicom) or from the
host through the protocol (its stubs), never from the page.
"""

from __future__ import annotations

import datetime
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2, types_pb2, utilities_pb2

from osirix_tasks.testing import RunningHost, running_host
from tests.web.test_viewer import ARGS, CHROMIUM, playwright_api, series_uid, write_series

EMPTY = utilities_pb2.Empty()
TODAY = datetime.date.today()
STUDIES = {
    "alpha": {
        "PatientName": "Alpha^Ann",
        "PatientID": "PA-1",
        "PatientBirthDate": "19700102",
        "AccessionNumber": "ACC-100",
        "StudyID": "S-1",
        "StudyDate": (TODAY - datetime.timedelta(days=2)).strftime("%Y%m%d"),
        "StudyDescription": "head",
    },
    "beta": {
        "PatientName": "Beta^Bob",
        "PatientID": "PB-2",
        "PatientBirthDate": "19851224",
        "AccessionNumber": "ACC-200",
        "StudyID": "S-2",
        "StudyDate": (TODAY - datetime.timedelta(days=400)).strftime("%Y%m%d"),
        "StudyDescription": "knee",
        "Modality": "MR",
    },
    "gamma": {
        "PatientName": "Gamma^Gus",
        "PatientID": "PG-3",
        "AccessionNumber": "ACC-300",
        "StudyID": "S-3",
        "StudyDate": (TODAY - datetime.timedelta(days=40)).strftime("%Y%m%d"),
        "StudyDescription": "scratch",
    },
}


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("database-data")
    for seed, (name, tags) in enumerate(STUDIES.items(), start=10):
        write_series(root / name, f"{name} series", 3, seed=seed, tags=tags)
    return root


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Iterator[RunningHost]:
    with running_host(tmp_path_factory.mktemp("database-home"), "--empty", "--import", str(data)) as running:
        yield running


@pytest.fixture(scope="module")
def page(host: RunningHost) -> Iterator[Any]:
    url = re.search(r"^Web UI: (\S+)$", "".join(host.output), re.MULTILINE).group(1)  # type: ignore[union-attr]
    errors: list[str] = []
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        # bypass_csp: Playwright's wait_for_function evaluates strings, which the page's policy forbids
        tab = browser.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)
        tab.on("pageerror", lambda error: errors.append(str(error)))
        tab.goto(url)
        tab.wait_for_selector("body[data-ready='1']", timeout=20000)
        tab.click("#tabs a[data-view='database']")
        tab.wait_for_selector("#db-table tbody tr.study")
        yield tab
        browser.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def column(page: Any, heading: str, kind: str = "study") -> list[str]:
    """The texts of one column (by its heading) of the study or series rows shown."""
    index = page.eval_on_selector_all("#db-table thead th", "h => h.map(e => e.textContent)").index(heading)
    return page.eval_on_selector_all(
        f"#db-table tbody tr.{kind} td:nth-child({index + 1})", "c => c.map(e => e.textContent.trim())"
    )


def shown_name(tags: dict[str, str]) -> str:
    """A patient name as OsiriX lists it (DicomStudyName: the components separated by spaces)."""
    return tags["PatientName"].replace("^", " ")


@pytest.fixture(autouse=True)
def unfiltered(page: Any) -> None:
    """Each test starts from the whole list."""
    page.fill("#db-search", "")
    page.select_option("#db-modality", "")
    page.select_option("#db-when", "Any date")


def dicom_date(value: str) -> str:
    return f"{value[:4]}-{value[4:6]}-{value[6:]}"


def test_the_columns_are_osirix_s(page: Any) -> None:
    names = column(page, "Patient name")
    assert sorted(names) == sorted(shown_name(tags) for tags in STUDIES.values())
    for heading, keyword in (
        ("Patient ID", "PatientID"),
        ("Accession number", "AccessionNumber"),
        ("Study ID", "StudyID"),
        ("Date of birth", "PatientBirthDate"),
    ):
        shown = dict(zip(names, column(page, heading), strict=True))
        for tags in STUDIES.values():
            expected = tags.get(keyword, "")
            expected = dicom_date(expected) if keyword == "PatientBirthDate" and expected else expected
            assert shown[shown_name(tags)] == expected, (heading, shown)


def test_search_filters_and_sort(page: Any) -> None:
    page.fill("#db-search", "acc-200")
    assert column(page, "Patient name") == ["Beta Bob"]
    page.fill("#db-search", "gamma series")  # a series description finds its study
    assert column(page, "Patient name") == ["Gamma Gus"]
    page.fill("#db-search", "")
    page.select_option("#db-modality", "MR")
    assert column(page, "Patient name") == ["Beta Bob"]
    page.select_option("#db-modality", "")
    page.select_option("#db-when", "Last 7 days")
    assert column(page, "Patient name") == ["Alpha Ann"]
    page.select_option("#db-when", "Last month")
    assert column(page, "Patient name") == ["Alpha Ann"]
    page.select_option("#db-when", "Any date")
    names = sorted(shown_name(tags) for tags in STUDIES.values())
    page.click("#db-table thead th[data-sort='patient']")
    assert column(page, "Patient name") == names
    page.click("#db-table thead th[data-sort='patient']")
    assert column(page, "Patient name") == names[::-1]
    page.click("#db-table thead th[data-sort='date']")  # oldest first: the dates the files carry
    by_date = sorted(STUDIES.values(), key=lambda tags: tags["StudyDate"])
    assert column(page, "Patient name") == [shown_name(tags) for tags in by_date]
    # each study keeps its own series under it
    rows = page.eval_on_selector_all("#db-table tbody tr", "r => r.map(e => e.className.split(' ')[0])")
    assert rows == ["study", "series"] * 3


def test_export_copies_the_files_privately(page: Any, host: RunningHost, data: Path, tmp_path: Path) -> None:
    page.locator("#db-table tbody tr.series", has_text="alpha series").click()
    page.click("#db-export")
    target = tmp_path / "exported"
    page.fill("#db-export-folder", str(target))
    page.click("#db-export-form button[type='submit']")
    page.wait_for_function("document.querySelector('#db-status').textContent.startsWith('exported')", timeout=20000)
    files = sorted(p for p in target.rglob("*") if p.is_file())
    exported = {pydicom.dcmread(p).SOPInstanceUID for p in files}
    assert exported == {pydicom.dcmread(p).SOPInstanceUID for p in (data / "alpha").glob("*.dcm")}
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in files)
    folders = [p for p in target.rglob("*") if p.is_dir()]
    assert folders and all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in folders)
    stub = host.stub()
    study = stub.DicomSeriesStudy(types_pb2.DicomSeries(osirixrpc_uid=series_uid(stub, "alpha series"))).study
    name = stub.DicomStudyStudyName(study).study_name  # as OsiriX names the study
    study_folder = f"{name} {dicom_date(STUDIES['alpha']['StudyDate'])}"
    assert files[0].relative_to(target).parts[:3] == ("Alpha Ann PA-1", study_folder, "alpha series")
    # again into the same folder: refused, naming the file, and nothing is overwritten or added
    page.click("#db-export")
    page.click("#db-export-form button[type='submit']")
    page.wait_for_function("document.querySelector('#db-status').textContent.includes('exists')", timeout=20000)
    assert sorted(p for p in target.rglob("*") if p.is_file()) == files
    page.click("#db-export-form button[name='cancel']")


def database_studies(host: RunningHost) -> list[str]:
    stub = host.stub()
    browser = stub.OsirixCurrentBrowser(EMPTY).browser_controller
    listed = stub.BrowserControllerDatabaseStudies(browser).studies
    return [stub.DicomStudyStudyInstanceUID(s).study_instance_uid for s in listed]


def test_delete_asks_first_then_deletes_through_the_host(page: Any, host: RunningHost, data: Path) -> None:
    stub = host.stub()
    study_uid = pydicom.dcmread(next((data / "gamma").glob("*.dcm"))).StudyInstanceUID
    copied = host.database / "DATABASE.noindex"
    files_before = sum(1 for p in copied.rglob("*") if p.is_file())
    # a viewer open on the study closes when it is deleted, as in OsiriX
    series = types_pb2.DicomSeries(osirixrpc_uid=series_uid(stub, "gamma series"))
    request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest
    images = stub.DicomSeriesSortedImages(series).sorted_images
    browser = stub.OsirixCurrentBrowser(EMPTY).browser_controller
    viewer = stub.BrowserControllerOpenViewerFromImages(
        request(browser=browser, frames=[request.FrameImages(images=images)])
    ).viewer
    page.click("#db-refresh")
    page.locator("#db-table tbody tr.study", has_text="Gamma Gus").click()
    page.click("#db-delete")
    assert page.is_visible("#db-confirm")
    assert "1 study" in page.inner_text("#db-confirm-text")
    page.click("#db-confirm button[name='cancel']")
    assert study_uid in database_studies(host)  # cancelled: nothing went
    page.click("#db-delete")
    page.click("#db-confirm button[type='submit']")
    page.wait_for_function("document.querySelector('#db-status').textContent.startsWith('deleted')", timeout=20000)
    assert page.inner_text("#db-status") == "deleted 1 study, 1 series, 3 images"
    assert study_uid not in database_studies(host) and len(database_studies(host)) == 2
    page.wait_for_selector("#db-table tbody tr.study:has-text('Gamma Gus')", state="detached")
    assert sum(1 for p in copied.rglob("*") if p.is_file()) == files_before - 3  # the copies went too
    shown = [v.osirixrpc_uid for v in stub.OsirixDisplayed2DViewers(EMPTY).viewer_controllers]
    assert viewer.osirixrpc_uid not in shown


def test_an_import_shows_its_progress(page: Any, host: RunningHost, tmp_path: Path) -> None:
    write_series(tmp_path / "many", "many", 200, seed=30, tags={"PatientName": "Many^Mo", "PatientID": "PM-4"})
    page.evaluate(
        """() => { const bar = document.querySelector('#db-progress'); window.progressSeen = [];
        new MutationObserver(() => window.progressSeen.push([bar.hidden, bar.max, bar.value]))
          .observe(bar, {attributes: true}); }"""
    )
    page.fill("#db-path", str(tmp_path / "many"))
    page.click("#db-import")
    page.wait_for_function("document.querySelector('#db-status').textContent.includes('imported')", timeout=60000)
    assert page.is_hidden("#db-progress")
    seen = page.evaluate("window.progressSeen")
    assert any(not hidden for hidden, _, _ in seen), seen  # it was shown while the import ran
    assert "Many Mo" in column(page, "Patient name")
    assert re.search(r"\b200\b", page.inner_text("#db-status")), page.inner_text("#db-status")
