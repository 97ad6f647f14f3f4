"""Orthanc as the remote PACS: our ``dicom echo|find|get|move|send`` (CLI) and the page's
Query/Retrieve window (real Chromium) against it. One Orthanc and one host for the module."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, JPEG2000Lossless, generate_uid

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.testing import RunningHost, running_host
from osirix_tasks.testing.browser import CHROMIUM, CHROMIUM_ARGS

from .peers import Orthanc, assert_same_instance, index_rows, start_orthanc, stop, stored_path, wait_until, write_series

NODE_AET = "OSIRIX_TASKS"


@pytest.fixture(scope="module")
def pacs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Orthanc, int, dict[str, list[Path]]]]:
    """Orthanc knowing our node, holding two CT studies (one JPEG 2000) sent through its REST API."""
    node_port = free_port()
    orthanc = start_orthanc(tmp_path_factory.mktemp("orthanc"), {"osirix": [NODE_AET, "127.0.0.1", node_port]})
    try:
        folder = tmp_path_factory.mktemp("pacs-data")
        studies: dict[str, list[Path]] = {}
        for name, syntax in (("get", ExplicitVRLittleEndian), ("move", JPEG2000Lossless)):
            uid = generate_uid()
            studies[name] = write_series(
                folder / name,
                3,
                modality="CT",
                study=uid,
                series=generate_uid(),
                patient="Pacs^Patient",
                description=name,
                sop_class=CTImageStorage,
                rows=32,
                columns=32,
                syntax=syntax,
            )
            for path in studies[name]:
                orthanc.upload(path)
        yield orthanc, node_port, studies
    finally:
        stop(orthanc.process)


@pytest.fixture(scope="module")
def host(
    pacs: tuple[Orthanc, int, dict[str, list[Path]]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningHost, Path, str]]:
    """Our host on an empty database, listening as a node, with Orthanc as [[dicom.node]] 'pacs'."""
    orthanc, node_port, _ = pacs
    home = tmp_path_factory.mktemp("home")
    registry = home / "tasks.toml"
    registry.write_text(
        f"""
[dicom]
ae_title = "{NODE_AET}"

[[dicom.node]]
name = "pacs"
ae_title = "{orthanc.aet}"
host = "127.0.0.1"
port = {orthanc.port}
""",
        encoding="utf-8",
    )
    with running_host(home, "--empty", "--registry", str(registry), "--dicom-port", str(node_port)) as running:
        match = re.search(r"^Web UI: (\S+)$", "".join(running.output), re.MULTILINE)
        assert match, "".join(running.output)
        yield running, registry, match.group(1)


def _cli(host: RunningHost, registry: Path, *args: str) -> Any:
    done = host.cli("--registry", str(registry), "dicom", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _uid(path: Path, keyword: str = "SOPInstanceUID") -> str:
    return str(pydicom.dcmread(path, stop_before_pixels=True).get(keyword))


def test_echo_and_find(host: tuple[RunningHost, Path, str], pacs: tuple[Orthanc, int, dict[str, list[Path]]]) -> None:
    running, registry, _ = host
    _, _, studies = pacs
    assert "answered in" in _cli(running, registry, "echo", "pacs").stdout
    found = json.loads(_cli(running, registry, "find", "pacs", "-k", "PatientID=PACS-PATIENT", "--json").stdout)
    assert {f["StudyInstanceUID"] for f in found} == {_uid(s[0], "StudyInstanceUID") for s in studies.values()}
    series = json.loads(
        _cli(
            running,
            registry,
            "find",
            "pacs",
            "--level",
            "series",
            "-k",
            f"StudyInstanceUID={_uid(studies['get'][0], 'StudyInstanceUID')}",
            "--json",
        ).stdout
    )
    assert [s["SeriesInstanceUID"] for s in series] == [_uid(studies["get"][0], "SeriesInstanceUID")]
    assert series[0]["NumberOfSeriesRelatedInstances"] == "3"


def test_get_fetches_a_study_into_the_database(
    host: tuple[RunningHost, Path, str], pacs: tuple[Orthanc, int, dict[str, list[Path]]]
) -> None:
    running, registry, _ = host
    _, _, studies = pacs
    study = _uid(studies["get"][0], "StudyInstanceUID")
    done = _cli(
        running,
        registry,
        "get",
        "pacs",
        "-k",
        f"StudyInstanceUID={study}",
        "--database",
        str(running.database),
        "--json",
    )
    outcome = json.loads(done.stdout)
    assert (outcome["completed"], outcome["failed"], outcome["imported"]) == (3, 0, 3)
    for original in studies["get"]:
        kept = stored_path(running.database, _uid(original))
        assert kept is not None
        assert_same_instance(original, kept)


def test_move_sends_a_study_to_our_node(
    host: tuple[RunningHost, Path, str], pacs: tuple[Orthanc, int, dict[str, list[Path]]]
) -> None:
    running, registry, _ = host
    _, _, studies = pacs
    study = _uid(studies["move"][0], "StudyInstanceUID")
    outcome = json.loads(_cli(running, registry, "move", "pacs", "-k", f"StudyInstanceUID={study}", "--json").stdout)
    assert (outcome["completed"], outcome["failed"]) == (3, 0)
    for original in studies["move"]:  # JPEG 2000 in Orthanc: kept as sent, or decoded to the same pixels
        kept = wait_until(lambda o=original: stored_path(running.database, _uid(o)))
        assert_same_instance(original, kept)


def _structured_report(study: str, tmp: Path) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.11"  # Basic Text SR
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "Send^Me", "SEND-ME", "SR", 9, 1
    ds.ValueType, ds.ContinuityOfContent = "CONTAINER", "SEPARATE"
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = "121144", "DCM", "Document Title"
    ds.ConceptNameCodeSequence = [concept]
    item = Dataset()
    item.RelationshipType, item.ValueType, item.TextValue = "CONTAINS", "TEXT", "a task's result"
    item.ConceptNameCodeSequence = [concept]
    ds.ContentSequence = [item]
    path = tmp / "sr.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_send_a_study_s_results_only(
    host: tuple[RunningHost, Path, str], pacs: tuple[Orthanc, int, dict[str, list[Path]]], tmp_path: Path
) -> None:
    running, registry, _ = host
    orthanc, _, _ = pacs
    study = generate_uid()
    images = write_series(
        tmp_path / "ct",
        2,
        modality="CT",
        study=study,
        series=generate_uid(),
        patient="Send^Me",
        description="images",
        sop_class=CTImageStorage,
        rows=16,
        columns=16,
    )
    report = _structured_report(study, tmp_path)
    imported = running.cli("import", str(tmp_path), "--database", str(running.database))
    assert imported.returncode == 0, imported.stderr
    outcome = json.loads(
        _cli(
            running,
            registry,
            "send",
            "pacs",
            "--study",
            study,
            "--modality",
            "SR",
            "--database",
            str(running.database),
            "--json",
        ).stdout
    )
    assert (outcome["completed"], outcome["failed"]) == (1, 0)
    instances = orthanc.rest("/instances")
    uids = {orthanc.rest(f"/instances/{i}/simplified-tags")["SOPInstanceUID"] for i in instances}
    assert _uid(report) in uids
    assert not {_uid(p) for p in images} & uids  # only the SR was sent


@pytest.fixture(scope="module")
def page(host: tuple[RunningHost, Path, str]) -> Iterator[Any]:
    """The page in Debian's Chromium (Playwright), under the page's own Content Security Policy (no
    inline script or style: what the Query/Retrieve window does must not break it; waits are selectors,
    as Playwright's wait_for_function evaluates strings, which the policy forbids)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    _, _, url = host
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if "Content Security" in message.text else None)
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", timeout=15000)
        yield page
        browser.close()
        assert not errors, errors


def test_the_page_searches_the_pacs_and_retrieves_a_study(
    host: tuple[RunningHost, Path, str], pacs: tuple[Orthanc, int, dict[str, list[Path]]], page: Any, tmp_path: Path
) -> None:
    running, _, _ = host
    orthanc, _, _ = pacs
    study = generate_uid()
    files = write_series(
        tmp_path,
        2,
        modality="MR",
        study=study,
        series=generate_uid(),
        patient="Page^Retrieve",
        description="from the page",
        sop_class="1.2.840.10008.5.1.4.1.1.4",
        rows=16,
        columns=16,
    )
    for path in files:
        orthanc.upload(path)
    page.click("#tabs a[data-view='dicom']")
    page.wait_for_selector("#dq-node option[value='pacs']", state="attached")
    page.fill("#dq-keys", "PatientName=Page^Retr*")
    page.click("#dq-form button[type='submit']")
    page.wait_for_selector("#dq-table tbody tr .dq-retrieve")
    assert page.locator("#dq-table tbody tr").count() == 1
    assert study in page.inner_text("#dq-table tbody")
    page.click("#dq-table tbody tr .dq-retrieve")
    page.wait_for_selector("#dq-status:has-text('completed')", timeout=30000)
    assert "2 completed, 0 failed" in page.inner_text("#dq-status")
    for original in files:
        kept = stored_path(running.database, _uid(original))
        assert kept is not None
        assert_same_instance(original, kept)
    assert index_rows(running.database, "SELECT COUNT(*) FROM studies WHERE study_instance_uid = ?", (study,)) == [(1,)]


def test_the_database_view_shows_a_study_as_it_arrives(
    host: tuple[RunningHost, Path, str], pacs: tuple[Orthanc, int, dict[str, list[Path]]], page: Any, tmp_path: Path
) -> None:
    running, registry, _ = host
    orthanc, _, _ = pacs
    study = generate_uid()
    for path in write_series(
        tmp_path,
        2,
        modality="CT",
        study=study,
        series=generate_uid(),
        patient="Arrives^Live",
        description="live",
        sop_class=CTImageStorage,
        rows=16,
        columns=16,
    ):
        orthanc.upload(path)
    page.click("#tabs a[data-view='database']")
    page.wait_for_selector("#db-table")
    assert "Arrives Live" not in page.inner_text("#db-table")
    _cli(running, registry, "move", "pacs", "-k", f"StudyInstanceUID={study}")  # Orthanc sends to our node
    page.wait_for_selector("#db-table:has-text('Arrives Live')", timeout=30000)


def _post(url: str, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    """POST as the page does (its token header, its Origin, JSON): status and answer."""
    import http.client

    base, token = url.split("/?token=")
    connection = http.client.HTTPConnection(base.removeprefix("http://"), timeout=60)
    try:
        headers = {"X-Osirix-Tasks-Token": token, "Origin": base, "Content-Type": "application/json"}
        connection.request("POST", path, body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def test_the_window_s_requests_name_a_bad_value(host: tuple[RunningHost, Path, str]) -> None:
    _, _, url = host
    for body, field in (
        ({"node": "pacs", "level": "everything"}, "level"),
        ({"node": "pacs", "keys": ["PatientID"]}, "keys"),
        ({"node": "pacs", "keys": {"PatientID": None}}, "keys"),
        ({"node": 7}, "node"),
    ):
        status, answer = _post(url, "/api/dicom/find", body)
        assert (status, answer.get("field")) == (400, field), (body, status, answer)
    status, answer = _post(url, "/api/dicom/send", {"node": "pacs"})
    assert (status, answer.get("field")) == (400, "study"), answer
    status, answer = _post(url, "/api/dicom/find", {"node": "nowhere"})
    assert status == 409 and "no DICOM node named 'nowhere'" in answer["error"] and "pacs" in answer["error"]
