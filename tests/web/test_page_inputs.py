"""What the page is sent and what it answers: bad values (400 naming the field, never 500), NaN
pixels, uploads (streamed, bounded, private, deleted once imported), the outcome of an import as the
CLI reports it, and thumbnails made from the pixels the viewer shows.

Against a real host in its own process (its page over real sockets, Debian's Chromium); expected
values come from pydicom and numpy, the CLI, or the host's gRPC answers.
"""

from __future__ import annotations

import asyncio
import json
import re
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np
import pydicom
import pytest
from osirixgrpc import browsercontroller_pb2, dcmpix_pb2, utilities_pb2, viewercontroller_pb2
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from osirix_tasks.web.uploads import Uploads, UploadTooLarge

from .conftest import Page

EMPTY = utilities_pb2.Empty()


def _json(page: Page, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    status, data = page.api(method, path, json.dumps(body).encode() if body is not None else None)
    return status, json.loads(data) if data else None


@pytest.fixture(scope="module")
def viewer(web: Page) -> str:
    """A 2D viewer on the demo series opened through the page (its uid)."""
    status, data = _json(web, "GET", "/api/database")
    assert status == 200, data
    series = data["studies"][0]["series"][0]["uid"]
    status, opened = _json(web, "POST", f"/api/series/{series}/open", {})
    assert status == 200, opened
    return str(opened["viewer"])


def test_bad_values_answer_400_naming_the_field(web: Page, viewer: str) -> None:
    cases = [
        ("GET", "/api/runs?limit=abc", None, "limit"),
        ("GET", "/api/runs?limit=0", None, "limit"),
        ("GET", f"/api/viewers/{viewer}/rois?frame=1e400", None, "frame"),
        ("GET", f"/api/viewers/{viewer}/rois?slice=nan", None, "slice"),
        ("GET", f"/api/viewers/{viewer}/rois?slice=-1", None, "slice"),
        ("PUT", f"/api/viewers/{viewer}", {"idx": "abc"}, "idx"),
        ("PUT", f"/api/viewers/{viewer}", {"movie_idx": 1.5}, "movie_idx"),
        ("PUT", f"/api/viewers/{viewer}", {"wl": "nan", "ww": 10}, "wl"),
        ("PUT", f"/api/viewers/{viewer}", {"wl": 10, "ww": 1e400}, "ww"),
        ("POST", f"/api/viewers/{viewer}/rois", {"itype": "oval"}, "itype"),
        ("POST", f"/api/viewers/{viewer}/rois", {"itype": 9, "rect": [1, 2, "x", 4]}, "rect"),
        ("POST", f"/api/viewers/{viewer}/rois", {"itype": 9}, "rect"),
        ("POST", f"/api/viewers/{viewer}/rois", {"itype": 11, "points": "abc"}, "points"),
        ("POST", f"/api/viewers/{viewer}/rois", {"itype": 11, "points": [[1, 2], [3]]}, "points"),
        ("POST", f"/api/viewers/{viewer}/rois", {"itype": 9, "rect": [1, 2, 3, 4], "color": [1, 2]}, "color"),
        ("POST", f"/api/viewers/{viewer}/rois", {"itype": 9, "rect": [1, 2, 3, 4], "frame": -2}, "frame"),
        ("POST", f"/api/viewers/{viewer}/select-rois", {"uids": "abc"}, "uids"),
        ("POST", "/api/database/select", {"studies": {"a": 1}}, "studies"),
        ("POST", "/api/database/import", {"paths": 5}, "paths"),
        ("PUT", "/api/scripts", {"name": "x", "type": "ROI", "changes": [1]}, "changes"),
        ("GET", "/api/runs/nope/stream?last_event_id=abc", None, "last_event_id"),
        ("POST", "/api/tickets", {"path": "/api/info"}, "path"),
        ("POST", "/api/menus/run", {"name": "x", "type": "Bogus"}, "type"),
        ("POST", "/api/scripts/remove", {"name": "x", "type": "Bogus"}, "type"),
        ("PUT", "/api/scripts", {"name": "x", "type": "Bogus", "changes": {}}, "type"),
        ("POST", "/api/dicom/echo", {"node": 5}, "node"),
        ("POST", "/api/dicom/retrieve", {"node": ["pacs"]}, "node"),
        ("GET", "/api/dicom/arrivals?after=abc", None, "after"),
        ("POST", "/api/batches/start", {"name": "Selection report", "type": "Database", "workers": 0}, "workers"),
        ("POST", "/api/batches/start", {"name": "Selection report", "type": "Database", "series": "x"}, "series"),
    ]
    answers = {}
    for method, path, body, field in cases:
        status, data = _json(web, method, path, body)
        answers[(method, path, json.dumps(body))] = (status, data.get("field") if isinstance(data, dict) else data)
        assert status == 400 and data.get("field") == field, (method, path, body, status, data)
        assert field in data["error"]
    status, data = _json(web, "POST", f"/api/viewers/{viewer}/vr", {"mode": "MIP"})
    assert status == 200, data
    for query, field in (("size=abc", "size"), ("size=4", "size"), ("azimuth=inf", "azimuth")):
        status, answer = _json(web, "GET", f"/api/vr/{data['vr']}/render?{query}")
        assert status == 400 and answer["field"] == field, (query, status, answer)


#: Every name a route of the page reads from a body or a query.
FIELDS = [
    "limit",
    "frame",
    "slice",
    "idx",
    "movie_idx",
    "wl",
    "ww",
    "itype",
    "rect",
    "points",
    "color",
    "name",
    "type",
    "uids",
    "studies",
    "series",
    "paths",
    "changes",
    "enabled",
    "port",
    "address",
    "mode",
    "size",
    "azimuth",
    "elevation",
    "path",
    "blocking",
    "interpreter",
    "last_event_id",
    "move",
    "viewer",
    "select",
    "index",
    "version",
    "since",
    "preset",
    "zoom",
    "folder",
    # the Query/Retrieve window's
    "node",
    "level",
    "keys",
    "how",
    "study",
    "modalities",
    "after",
    # a batch from the database window
    "workers",
    "rois",
]
JUNK: list[Any] = ["abc", 1e308, -1, None, [], {}, [[1]], "nan", True, "", [["a", "b"]]]


def test_no_value_in_any_field_of_any_route_makes_the_page_fail(web: Page, viewer: str) -> None:
    from osirix_tasks.web.routes import ROUTES

    failures = []
    for route in ROUTES:
        path = re.sub(r"\{port:int\}", "1", re.sub(r"\{\w+\}", "junk", route.path))  # type: ignore[attr-defined]
        for method in sorted(route.methods - {"HEAD"}):  # type: ignore[attr-defined]
            if (method == "PUT" and path.endswith("/upload")) or path == "/api/runs/events":
                continue  # bytes, not fields; a stream that lasts: their own tests
            for junk in JUNK:
                body = {field: junk for field in FIELDS}
                query = urlencode({field: json.dumps(junk) for field in FIELDS})
                status, data = web.api(method, f"{path}?{query}", json.dumps(body).encode())
                if status >= 500:
                    failures.append((method, path, junk, status, data[:200]))
    assert not failures, failures
    assert web.host.stub().OsirixVersion(EMPTY).status.status == 1


def test_rois_over_nan_pixels_are_listed_with_no_mean(web: Page, viewer: str) -> None:
    stub = web.host.stub()
    ref = viewercontroller_pb2.ViewerControllerPixListRequest(
        viewer_controller=stub.OsirixFrontmostViewer(EMPTY).viewer_controller, movie_idx=0
    )
    status, info = _json(web, "GET", f"/api/viewers/{viewer}")
    assert status == 200, info
    index = int(info["idx"])
    pix = stub.ViewerControllerPixList(ref).pix[index]
    rows, columns = info["rows"], info["columns"]
    values = np.full(rows * columns, np.nan, dtype=np.float32)
    answer = stub.DCMPixSetImage(dcmpix_pb2.DCMPixSetImageRequest(pix=pix, image_data_float=values.tolist()))
    assert answer.status.status == 1, answer.status.message
    status, drawn = _json(
        web, "POST", f"/api/viewers/{viewer}/rois", {"itype": 9, "rect": [20, 20, 10, 10], "slice": index}
    )
    assert status == 200, drawn
    status, listed = _json(web, "GET", f"/api/viewers/{viewer}/rois?frame=0&slice={index}")
    assert status == 200, listed
    roi = next(r for r in listed["rois"] if r["uid"] == drawn["roi"]["uid"])
    reference = stub.DCMPixComputeROI(
        dcmpix_pb2.DCMPixComputeROIRequest(
            pix=pix, roi=stub.ViewerControllerSelectedROIs(ref.viewer_controller).rois[0]
        )
    )
    assert np.isnan(reference.mean)  # what OsiriX says: no number, which JSON carries as null
    assert roi["mean"] is None and roi["area"] == pytest.approx(
        stub.ROIArea(stub.ViewerControllerSelectedROIs(ref.viewer_controller).rois[0]).area
    )
    status, _ = web.api("GET", f"/api/pix/{pix.osirixrpc_uid}")
    assert status == 200


# --- uploads ----------------------------------------------------------------------------------------


def _upload_headers(page: Page) -> dict[str, str]:
    return {
        "X-Osirix-Tasks-Token": page.token,
        "Origin": page.base,
        "Content-Type": "application/octet-stream",
        "Host": f"127.0.0.1:{page.port}",
    }


def test_an_upload_announced_larger_than_the_limit_is_refused_before_its_body(web: Page) -> None:
    import socket

    head = "".join(f"{k}: {v}\r\n" for k, v in _upload_headers(web).items())
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as sock:
        request = "PUT /api/database/upload?batch=big&name=big.dcm HTTP/1.1\r\n"
        sock.sendall(f"{request}{head}Content-Length: {2 << 30}\r\n\r\n".encode())
        answer = b""  # no body sent: an answer at all means it did not wait for 2 GiB
        while chunk := sock.recv(65536):  # until the host closes the connection
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"larger than 1073741824 bytes" in answer


def _peak_memory(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) * 1024  # type: ignore[union-attr]


@pytest.mark.slow
def test_an_upload_is_streamed_to_a_private_file_not_held_in_memory(web: Page) -> None:
    size = 256 << 20
    before = _peak_memory(web.host.process.pid)

    def body() -> Any:
        block = b"\0" * (1 << 20)
        for _ in range(size >> 20):
            yield block

    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=120)
    headers = _upload_headers(web) | {"Content-Length": str(size)}
    connection.request("PUT", "/api/database/upload?batch=stream1&name=zeros.dcm", body=body(), headers=headers)
    response = connection.getresponse()
    data = json.loads(response.read())
    connection.close()
    assert response.status == 200, data
    stored = Path(data["path"])
    try:
        assert stored.stat().st_size == size
        assert stat.S_IMODE(stored.stat().st_mode) == 0o600
        assert stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(stored.parent.parent.stat().st_mode) == 0o700  # uploads/
        grown = _peak_memory(web.host.process.pid) - before
        assert grown < size // 4, f"the host's peak memory grew by {grown >> 20} MB for a {size >> 20} MB upload"
    finally:
        stored.unlink()
        stored.parent.rmdir()


def test_an_upload_past_the_limit_is_stopped_and_removed_while_it_streams(tmp_path: Path) -> None:
    uploads = Uploads(tmp_path / "uploads", limit=3 << 20)
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(100):  # 100 MB offered: reading stops past 3 MB
            sent += 1
            yield b"\1" * (1 << 20)

    with pytest.raises(UploadTooLarge, match="larger than 3145728 bytes"):
        asyncio.run(uploads.receive("batch1", "big.dcm", chunks()))
    assert sent == 4
    assert list((tmp_path / "uploads" / "batch1").iterdir()) == []


# --- the outcome of an import ----------------------------------------------------------------------


def _image(path: Path, pixels: np.ndarray, **tags: Any) -> Path:
    """A DICOM image file of ours (pydicom writes it), one series per file."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.Modality = "Page^Test", "PAGE1", "OT"
    ds.Rows, ds.Columns = pixels.shape[:2]
    ds.SamplesPerPixel = 1
    ds.BitsAllocated = ds.BitsStored = pixels.dtype.itemsize * 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    for key, value in tags.items():
        setattr(ds, key, value)
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def _cli_summary(page: Page, folder: Path, tmp: Path) -> str:
    """What ``osirix-tasks import`` says of ``folder`` (into a database of its own), without the time."""
    result = page.host.cli("import", str(folder), "--database", str(tmp / "cli-db"))
    return _lines(result.stdout)


def _lines(text: str) -> str:
    """Text without the time an import took and without indentation (the page does not indent)."""
    return "\n".join(line.strip() for line in re.sub(r" \(\d+\.\d s\)", "", text).strip().splitlines())


def test_the_page_shows_what_an_import_did_as_the_cli_says_it(web: Page, browser: Any, tmp_path: Path) -> None:
    no_dicom = tmp_path / "notes"
    no_dicom.mkdir()
    (no_dicom / "readme.txt").write_text("not an image\n")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    _image(mixed / "one.dcm", np.arange(64, dtype=np.uint16).reshape(8, 8))
    (mixed / "task.py").write_text("print('hello')\n")
    expected = {folder: _cli_summary(web, folder, tmp_path / "cli" / folder.name) for folder in (no_dicom, mixed)}
    assert "0 imported" in expected[no_dicom] and "1 imported" in expected[mixed]
    context = browser.new_context(bypass_csp=True)
    try:
        tab = context.new_page()
        tab.goto(web.url)
        tab.wait_for_selector("body[data-ready='1']", timeout=20000)
        for folder in (no_dicom, mixed):
            tab.fill("#db-path", str(folder))
            tab.click("#db-import")
            tab.wait_for_function(
                "document.querySelector('#db-status').textContent.includes(' imported, ')", timeout=30000
            )
            shown = _lines(tab.inner_text("#db-status"))
            assert shown.startswith(expected[folder]), (shown, expected[folder])
            tab.evaluate("document.querySelector('#db-status').textContent = ''")
        assert "nothing was imported" in shown or "1 imported" in shown
        # files picked in the page: uploaded, imported, named as the user named them, then deleted
        tab.set_input_files("#db-files", [str(mixed / "one.dcm"), str(mixed / "task.py")])
        tab.wait_for_function("document.querySelector('#db-status').textContent.includes(' imported, ')", timeout=30000)
        shown = tab.inner_text("#db-status")
        assert "0 imported, 1 already in the database, 1 not DICOM" in shown
        assert "task.py (uploaded)" in shown and "/uploads/" not in shown
        uploads = web.host.home / ".local" / "share" / "osirix-tasks" / "uploads"
        assert stat.S_IMODE(uploads.stat().st_mode) == 0o700
        deadline = time.monotonic() + 10
        while list(uploads.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(uploads.iterdir()) == []  # deleted once imported, their batch folder too
        # an empty folder: nothing to import, said as the CLI says it
        empty = tmp_path / "empty"
        empty.mkdir()
        tab.fill("#db-path", str(empty))
        tab.click("#db-import")
        tab.wait_for_function(
            "document.querySelector('#db-status').textContent.includes('nothing was imported')", timeout=30000
        )
        assert tab.evaluate("document.querySelector('#db-status').classList.contains('error')")
    finally:
        context.close()


# --- thumbnails ------------------------------------------------------------------------------------


def _thumbnail(page: Page, series_instance_uid: str) -> np.ndarray:
    status, data = _json(page, "GET", "/api/database")
    assert status == 200
    uid = next(
        r["uid"] for s in data["studies"] for r in s["series"] if r["series_uid"].startswith(series_instance_uid)
    )
    status, headers, body = page.request(
        "GET", f"/api/series/{uid}/thumbnail", headers={"X-Osirix-Tasks-Token": page.token}
    )
    assert status == 200, body[:300]
    shape = (int(headers["x-rows"]), int(headers["x-columns"]))
    if headers["x-format"] == "gray8":  # (how thumbnails travelled before they had colour)
        grey = np.frombuffer(body, dtype=np.uint8).reshape(shape)
        return np.dstack([grey, grey, grey, np.full(shape, 255, dtype=np.uint8)])
    assert headers["x-format"] == "rgba8"
    return np.frombuffer(body, dtype=np.uint8).reshape(*shape, 4)


def _listed_series(page: Page) -> set[str]:
    status, data = _json(page, "GET", "/api/database")
    assert status == 200
    return {r["series_uid"] for s in data["studies"] for r in s["series"]}


def _windowed(values: np.ndarray, center: float, width: float) -> np.ndarray:
    return np.clip((values - (center - width / 2)) * 255.0 / width, 0, 255)


def test_thumbnails_show_what_the_viewer_shows(web: Page, tmp_path: Path) -> None:
    folder = tmp_path / "thumbs"
    folder.mkdir()
    ramp = (np.arange(32 * 32, dtype=np.uint16).reshape(32, 32) * 3).astype(np.uint16)
    plain = _image(folder / "plain.dcm", ramp)
    bare = folder / "bare.dcm"  # no preamble, no file meta: read by the viewer, a 500 for the thumbnail before
    ds = pydicom.dcmread(plain)
    ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid()
    ds.preamble = None
    del ds.file_meta
    pydicom.dcmwrite(bare, ds, enforce_file_format=False, implicit_vr=True, little_endian=True)
    assert bare.read_bytes()[128:132] != b"DICM"
    inverted = _image(
        folder / "mono1.dcm", ramp, PhotometricInterpretation="MONOCHROME1", WindowCenter=1500, WindowWidth=2000
    )
    lut = np.arange(256, dtype=np.uint16) * 257  # 16-bit entries
    palette = _image(
        folder / "palette.dcm",
        (np.arange(32 * 32).reshape(32, 32) % 256).astype(np.uint8),
        PhotometricInterpretation="PALETTE COLOR",
        RedPaletteColorLookupTableDescriptor=[256, 0, 16],
        GreenPaletteColorLookupTableDescriptor=[256, 0, 16],
        BluePaletteColorLookupTableDescriptor=[256, 0, 16],
        RedPaletteColorLookupTableData=lut.tobytes(),
        GreenPaletteColorLookupTableData=(65535 - lut).astype(np.uint16).tobytes(),
        BluePaletteColorLookupTableData=np.full(256, 40 * 257, dtype=np.uint16).tobytes(),
    )
    stub = web.host.stub()
    request = browsercontroller_pb2.BrowserControllerCopyFilesIfNeededRequest(
        browser=stub.OsirixCurrentBrowser(EMPTY).browser_controller, paths=[str(p) for p in folder.iterdir()]
    )
    assert stub.BrowserControllerCopyFilesIfNeeded(request).status.status == 1
    wanted = {str(pydicom.dcmread(p, force=True).SeriesInstanceUID) for p in folder.iterdir()}
    deadline = time.monotonic() + 30
    while not wanted <= _listed_series(web):
        assert time.monotonic() < deadline, "the files were not imported"
        time.sleep(0.2)
    full_range = _windowed(ramp.astype(np.float64), (ramp.max() + ramp.min()) / 2, ramp.max() - ramp.min())
    for path in (plain, bare):  # no window in the file: the full range, as the viewer's default
        picture = _thumbnail(web, str(pydicom.dcmread(path, force=True).SeriesInstanceUID))
        assert np.abs(picture[..., 0].astype(int) - full_range).max() <= 1, path.name
        assert (picture[..., 0] == picture[..., 2]).all() and (picture[..., 3] == 255).all()
    mono1 = _thumbnail(web, str(pydicom.dcmread(inverted).SeriesInstanceUID))
    expected = 255 - _windowed(ramp.astype(np.float64), 1500, 2000)  # MONOCHROME1: high values dark
    assert np.abs(mono1[..., 0].astype(int) - expected).max() <= 1
    colour = _thumbnail(web, str(pydicom.dcmread(palette).SeriesInstanceUID))
    from pydicom.pixels import apply_color_lut

    source = pydicom.dcmread(palette)
    rgb = apply_color_lut(source.pixel_array, source) >> 8  # OsiriX keeps 8 bits a channel
    assert np.array_equal(colour[..., :3], rgb.astype(np.uint8))
    assert len(np.unique(colour[..., :3].reshape(-1, 3), axis=0)) > 100  # in colour, not grey
