"""``GET /api/viewers/{uid}/rois/export?format=...``: the page's download of a viewer's ROIs."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pydicom
import pytest

from .conftest import Page


@pytest.fixture(scope="module")
def page(web: Page) -> Page:
    """A demo host's page (tests/web/conftest.py) with a viewer holding two ROIs."""
    host = web.host
    series = json.loads(host.cli("db", "series", "--json").stdout)[0]["series_instance_uid"]
    for args in (
        ("open", series),
        ("roi", "add", "--type", "oval", "--name", "cyst", "--slice", "4", "--box", "60", "60", "20", "12"),
        ("roi", "add", "--type", "mask", "--name", "painted", "--slice", "7", "--box", "70", "20", "9", "7"),
    ):
        assert host.cli(*args).returncode == 0
    return web


def get(page: Page, path: str) -> tuple[int, dict[str, str], bytes]:
    """A GET as the page sends it (its token header)."""
    return page.request("GET", path, headers={"X-Osirix-Tasks-Token": page.token})


def viewer_uid(page: Page) -> str:
    status, _, body = get(page, "/api/viewers")
    assert status == 200
    return str(json.loads(body)["viewers"][0]["uid"])


def test_the_page_downloads_the_viewers_rois_in_each_format(page: Page) -> None:
    uid = viewer_uid(page)
    status, headers, body = get(page, f"/api/viewers/{uid}/rois/export?format=csv")
    assert status == 200 and headers["content-type"].startswith("text/csv"), body
    assert 'filename="rois.csv"' in headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert sorted((r["name"], r["slice"]) for r in rows) == [("cyst", "4"), ("painted", "7")]
    status, headers, body = get(page, f"/api/viewers/{uid}/rois/export?format=sr")
    assert status == 200 and headers["content-type"] == "application/zip"  # the report and its brush ROIs' SEG
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert sorted(archive.namelist()) == ["rois.dcm", "rois.seg.dcm"]
        report = pydicom.dcmread(io.BytesIO(archive.read("rois.dcm")))
    assert report.Modality == "SR" and report.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    status, _, body = get(page, f"/api/viewers/{uid}/rois/export?format=png")
    answer = json.loads(body)
    assert status == 400 and answer["field"] == "format" and "use one of sr, seg, csv, json" in answer["error"]
    status, _, _ = page.request("GET", f"/api/viewers/{uid}/rois/export?format=csv")  # no token: refused
    assert status == 403
