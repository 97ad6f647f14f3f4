"""``GET /api/viewers/{uid}/rois/export?format=...``: the page's download of a viewer's ROIs."""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from typing import Any

import pydicom
import pytest

from osirix_tasks.testing import RunningHost, running_host


@pytest.fixture(scope="module")
def page_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, str, str]]:
    """A demo host with its page, a viewer with two ROIs; the page's base URL and token."""
    with running_host(tmp_path_factory.mktemp("home"), "--demo") as host:
        match = re.search(r"^Web UI: (\S+)$", "".join(host.output), re.MULTILINE)
        assert match, "".join(host.output)
        base, token = match.group(1).split("/?token=")
        series = json.loads(host.cli("db", "series", "--json").stdout)[0]["series_instance_uid"]
        for args in (
            ("open", series),
            ("roi", "add", "--type", "oval", "--name", "cyst", "--slice", "4", "--box", "60", "60", "20", "12"),
            ("roi", "add", "--type", "mask", "--name", "painted", "--slice", "7", "--box", "70", "20", "9", "7"),
        ):
            assert host.cli(*args).returncode == 0
        yield host, base, token


def get(page_host: tuple[RunningHost, str, str], path: str) -> tuple[int, dict[str, str], bytes]:
    _, base, token = page_host
    request = urllib.request.Request(base + path, headers={"X-Osirix-Tasks-Token": token})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def viewer_uid(page_host: tuple[RunningHost, str, str]) -> str:
    status, _, body = get(page_host, "/api/viewers")
    assert status == 200
    return str(json.loads(body)["viewers"][0]["uid"])


def test_the_page_downloads_the_viewers_rois_in_each_format(page_host: Any) -> None:
    uid = viewer_uid(page_host)
    status, headers, body = get(page_host, f"/api/viewers/{uid}/rois/export?format=csv")
    assert status == 200 and headers["content-type"].startswith("text/csv"), body
    assert 'filename="rois.csv"' in headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert sorted((r["name"], r["slice"]) for r in rows) == [("cyst", "4"), ("painted", "7")]
    status, headers, body = get(page_host, f"/api/viewers/{uid}/rois/export?format=sr")
    assert status == 200 and headers["content-type"] == "application/zip"  # the report and its brush ROIs' SEG
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert sorted(archive.namelist()) == ["rois.dcm", "rois.seg.dcm"]
        report = pydicom.dcmread(io.BytesIO(archive.read("rois.dcm")))
    assert report.Modality == "SR" and report.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    status, _, body = get(page_host, f"/api/viewers/{uid}/rois/export?format=png")
    assert status == 409 and "use one of sr, seg, csv, json" in json.loads(body)["error"]
