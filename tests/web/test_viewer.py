"""The reading viewer (issue 23, issue 18 item 20) in real headless Chromium against a real host.

One host (series generated here with pydicom: an axial CT with a bright block, a parallel axial series
with another spacing, a sagittal series, a gantry-tilted series, an image with an overlay plane and an
untitled one) and one page serve the module. Expected values come from the files (pydicom + numpy) or
from the host through the protocol (its stubs, pyosirix), never from the page itself.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import highdicom
import numpy as np
import pydicom
import pytest
from osirixgrpc import types_pb2, utilities_pb2, viewercontroller_pb2
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from osirix_tasks.testing import RunningHost, running_host
from osirix_tasks.testing.browser import CHROMIUM, CHROMIUM_WEBGL_ARGS
from tests.emulator.test_pyosirix import run_pyosirix  # pyosirix, unmodified, in its own process

#: WebGL2 through SwiftShader (no GPU here): the page's own renderer; the canvas one is asked for by URL.
ARGS = CHROMIUM_WEBGL_ARGS
EMPTY = utilities_pb2.Empty()
SIZE = 64
BLOCK = (slice(20, 30), slice(40, 50))  # rows 20-29, columns 40-49: value 3000 in every slice
AXIAL = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
SAGITTAL = [0.0, 1.0, 0.0, 0.0, 0.0, -1.0]

playwright_api = pytest.importorskip("playwright.sync_api")
if shutil.which(CHROMIUM) is None:
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


def write_series(
    folder: Path,
    description: str,
    count: int,
    *,
    orientation: list[float] = AXIAL,
    step: tuple[float, float, float] = (0.0, 0.0, 2.5),
    spacing: float = 0.7,
    patient: str | None = "Viewer^Test",
    overlay: bool = False,
    seed: int = 1,
    tags: dict[str, Any] | None = None,
) -> list[Path]:
    """A CT series, one file per slice, slices written in a shuffled order (the host sorts them)."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    study, series = generate_uid(), generate_uid()
    paths = []
    for index in rng.permutation(count):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        path = folder / f"{index:03d}.dcm"
        ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality = "CT"
        if patient is not None:
            ds.PatientName, ds.PatientID, ds.StudyDescription = patient, "VT-1", "viewer study"
            ds.SeriesDescription = description
        ds.SeriesNumber, ds.InstanceNumber = 1, int(index) + 1
        ds.ImageOrientationPatient = orientation
        ds.ImagePositionPatient = [float(v) * float(index) + o for v, o in zip(step, (-20.0, -30.0, 10.0), strict=True)]
        ds.SliceThickness, ds.PixelSpacing = 2.5, [spacing, spacing]
        ds.Rows = ds.Columns = SIZE
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
        ds.WindowCenter, ds.WindowWidth = 1000, 4000
        pixels = rng.integers(-200, 400, size=(SIZE, SIZE)).astype(np.int16)
        pixels[BLOCK] = 3000
        pixels[5, (5 + int(index)) % SIZE] = 2500  # each slice differs where MPR can see it
        ds.PixelData = pixels.tobytes()
        if overlay:
            bits = np.zeros((SIZE, SIZE), dtype=np.uint8)
            bits[50:54, 8:24] = 1
            ds.add_new((0x6000, 0x0010), "US", SIZE)
            ds.add_new((0x6000, 0x0011), "US", SIZE)
            ds.add_new((0x6000, 0x0040), "CS", "G")
            ds.add_new((0x6000, 0x0050), "SS", [1, 1])
            ds.add_new((0x6000, 0x0100), "US", 1)
            ds.add_new((0x6000, 0x0102), "US", 0)
            ds.add_new((0x6000, 0x3000), "OW", np.packbits(bits.ravel(), bitorder="little").tobytes())
        for keyword, value in (tags or {}).items():
            setattr(ds, keyword, value)
        pydicom.dcmwrite(path, ds, enforce_file_format=True)
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("viewer-data")
    write_series(root / "axial", "axial ct", 20, tags={"FrameOfReferenceUID": generate_uid()})  # (a SEG needs it)
    write_series(root / "fine", "axial fine", 40, step=(0.0, 0.0, 1.25), spacing=0.5, seed=2)
    write_series(root / "sagittal", "sagittal ct", 6, orientation=SAGITTAL, step=(3.0, 0.0, 0.0), seed=3)
    write_series(root / "tilted", "tilted ct", 8, step=(0.0, 0.6, 2.5), seed=4)
    write_series(root / "overlay", "overlay ct", 1, overlay=True, seed=5)
    write_series(root / "untitled", "", 3, patient=None, seed=6)
    return root


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Iterator[tuple[RunningHost, str]]:
    home = tmp_path_factory.mktemp("viewer-home")
    with running_host(home, "--empty", "--import", str(data)) as running:
        match = re.search(r"^Web UI: (\S+)$", "".join(running.output), re.MULTILINE)
        assert match, "".join(running.output)
        yield running, match.group(1)


@pytest.fixture(scope="module")
def browser(host: tuple[RunningHost, str]) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def new_page(browser: Any, url: str, errors: list[str], ratio: float = 1) -> Any:
    # bypass_csp: Playwright's wait_for_function evaluates strings, which the page's policy forbids
    page = browser.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True, device_scale_factor=ratio)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=20000)
    return page


@pytest.fixture(scope="module")
def page_errors() -> list[str]:
    return []


@pytest.fixture(scope="module")
def page(browser: Any, host: tuple[RunningHost, str], page_errors: list[str]) -> Iterator[Any]:
    page = new_page(browser, host[1], page_errors)
    yield page
    page.close()
    assert not page_errors, f"JavaScript errors on the page: {page_errors}"


def series_uid(stub: Any, description: str) -> str:
    browser = stub.OsirixCurrentBrowser(EMPTY).browser_controller
    for study in stub.BrowserControllerDatabaseStudies(browser).studies:
        for series in stub.DicomStudySeries(study).series:
            name = stub.DicomSeriesSeriesDescription(series).series_description
            if name == description or (not description and name == "unnamed"):
                return str(series.osirixrpc_uid)
    raise AssertionError(f"no series {description!r}")


def show_series(page: Any, stub: Any, description: str, viewport: int = 0) -> Any:
    """Open a series (as the database window does) in a viewport of the page; its ViewerController."""
    page.click("#tabs a[data-view='viewer']")
    time.sleep(0.5)  # the view's own refresh (it shows the frontmost viewer when none is shown) settles
    uid = page.evaluate(
        "async (s) => (await (await fetch('/api/series/' + s + '/open', {method: 'POST', headers: "
        "{'X-Osirix-Tasks-Token': sessionStorage.getItem('osirix-tasks-token'), 'Content-Type': 'application/json'},"
        " body: '{}'})).json()).viewer",
        series_uid(stub, description),
    )
    page.evaluate("([i, uid]) => window.osirixTasks.viewer.openViewer(i, uid)", [viewport, uid])
    page.evaluate(f"window.osirixTasks.viewer.activate({viewport})")
    page.wait_for_function(f"window.osirixTasks.viewer.viewports[{viewport}].stats.paints > 0")
    return types_pb2.ViewerController(osirixrpc_uid=uid)


def viewport_box(page: Any, index: int = 0) -> dict[str, float]:
    return page.locator("#vw-grid .viewport").nth(index).bounding_box()


# The canvas is read in the page (a 1440x900 canvas is 5 MB of RGBA: only boxes and samples cross over).
# A layer as the screen shows it, in device px over its viewport: the overlay is the viewport's size; the
# image canvas is the plane's, placed by its CSS transform (the compositor scales it as drawImage does).
SHOWN = """(src) => {
  const r = window.devicePixelRatio, box = src.parentElement, c = document.createElement('canvas');
  c.width = Math.round(box.clientWidth * r); c.height = Math.round(box.clientHeight * r);
  const x = c.getContext('2d'), t = getComputedStyle(src).transform;
  x.setTransform(new DOMMatrix().scale(r).multiply(new DOMMatrix(t === 'none' ? undefined : t)));
  if (!src.hidden) x.drawImage(src, 0, 0, src.offsetWidth, src.offsetHeight);
  return c;
}"""

CANVAS_BOX = (
    """([s, colour, tolerance, minRed]) => {
  const c = ("""
    + SHOWN
    + """)(document.querySelector(s)), x = c.getContext('2d');
  const d = x.getImageData(0, 0, c.width, c.height).data;
  let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
  for (let i = 0; i < d.length; i += 4) {
    const hit = colour ? d[i + 3] > 200 && Math.abs(d[i] - colour[0]) + Math.abs(d[i + 1] - colour[1])
      + Math.abs(d[i + 2] - colour[2]) < tolerance : d[i] >= minRed;
    if (!hit) continue;
    const p = i >> 2, px = p % c.width, py = (p - px) / c.width;
    if (px < x0) x0 = px; if (px > x1) x1 = px; if (py < y0) y0 = py; if (py > y1) y1 = py;
  }
  const r = window.devicePixelRatio;
  return x1 < 0 ? null : [x0 / r, y0 / r, (x1 + 1) / r, (y1 + 1) / r];
}"""
)
CANVAS_AT = (
    """([s, x, y]) => {
  const g = ("""
    + SHOWN
    + """)(document.querySelector(s)).getContext('2d');
  const r = window.devicePixelRatio;
  return Array.from(g.getImageData(Math.floor(x * r), Math.floor(y * r), 1, 1).data);
}"""
)


def layer(index: int, name: str) -> str:
    return f"#vw-grid .viewport:nth-child({index + 1}) .vp-{name}"


def bright_box(page: Any, index: int = 0) -> tuple[float, float, float, float]:
    """The screen box (CSS px, in the viewport) of the 3000-valued block as the image canvas shows it."""
    box = page.evaluate(CANVAS_BOX, [layer(index, "image"), None, 0, 250])
    assert box, "nothing bright on the image canvas"
    return tuple(box)


def overlay_box(page: Any, colour: tuple[int, int, int], index: int = 0) -> tuple[float, float, float, float]:
    """The screen box (CSS px) of what the overlay canvas draws in a colour (ROI outlines, overlay planes)."""
    box = page.evaluate(CANVAS_BOX, [layer(index, "overlay"), list(colour), 40, 0])
    assert box, f"the colour {colour} is not on the overlay"
    return tuple(box)


def new_rect_roi(
    stub: Any, viewer: Any, index: int, rect: tuple[float, float, float, float], colour: tuple[int, int, int]
) -> Any:
    request = viewercontroller_pb2.ViewerControllerNewROIRequest
    answer = stub.ViewerControllerNewROI(
        request(
            viewer_controller=viewer,
            itype=6,  # OsiriX's tROI: a rectangle (test data: the protocol's own number)
            idx=index,
            movie_idx=0,
            name="block",
            color=request.Color(r=colour[0], g=colour[1], b=colour[2]),
            opacity=1.0,
            # 2 px: a 1 px outline at a fractional screen position (the fit zoom follows the viewport's
            # height, so the page's header decides it) is two half-covered pixels, none of its colour
            thickness=2.0,
            rectangle=request.Rect(origin_x=rect[0], origin_y=rect[1], width=rect[2], height=rect[3]),
        )
    )
    assert answer.status.status == 1, answer.status.message
    return answer.roi


def wait_rois(page: Any, count: int) -> None:
    """Wait until the page lists ``count`` ROIs on the active viewport's image (it polls the host)."""
    try:
        page.wait_for_function(f"window.osirixTasks.viewer.rois.length === {count}", timeout=10000)
    except playwright_api.TimeoutError:
        state = page.evaluate(
            "(() => { const v = window.osirixTasks.viewer; return {rois: v.rois.length, gesture: v.gesture, "
            "slice: v.state.slice, view: location.hash}; })()"
        )
        raise AssertionError(f"the page did not come to {count} ROIs: {state}") from None


def all_rois(stub: Any, viewer: Any) -> list[Any]:
    """Every ROI of the viewer's first movie frame, through the protocol."""
    listing = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=0)
    return [roi for plane in stub.ViewerControllerROIList(listing).roi_slices for roi in plane.rois]


def delete_all_rois(stub: Any, viewer: Any) -> None:
    for roi in all_rois(stub, viewer):
        stub.ROIDelete(roi)


def drag(page: Any, start: tuple[float, float], end: tuple[float, float], button: str = "left") -> None:
    page.mouse.move(*start)
    page.mouse.down(button=button)
    page.mouse.move(*end, steps=6)
    page.mouse.up(button=button)


def test_zoom_and_pan_keep_roi_geometry_right(page: Any, host: tuple[RunningHost, str]) -> None:
    stub = host[0].stub()
    viewer = show_series(page, stub, "axial ct")
    delete_all_rois(stub, viewer)
    index = page.evaluate("window.osirixTasks.viewer.state.slice")
    # an ROI exactly over the bright block (pixel edges at -0.5: the block spans columns 40-49)
    new_rect_roi(stub, viewer, index, (39.5, 19.5, 10, 10), (255, 0, 255))
    wait_rois(page, 1)
    box = viewport_box(page)
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    drag(page, centre, (centre[0], centre[1] - 120), "right")  # right drag up: zoom in (OsiriX)
    drag(page, centre, (centre[0] - 150, centre[1] + 60), "middle")  # middle drag: pan
    zoom = page.evaluate("window.osirixTasks.viewer.active.camera.zoom")
    assert zoom > 1.5
    block = bright_box(page)
    outline = overlay_box(page, (255, 0, 255))
    # the outline sits on the block, zoomed (the block's visible edge is half a pixel in: linear filtering)
    pixel = (block[2] - block[0]) / 9
    assert np.allclose(block, outline, atol=0.7 * pixel), (block, outline)
    # draw a rectangle over the block as the page shows it now (the first ROI gone: a press on an ROI
    # with a drawing tool moves it, as in OsiriX): the host gets the block's pixels
    delete_all_rois(stub, viewer)
    wait_rois(page, 0)
    page.click("#vw-tools button[data-tool='RECTANGLE']")
    drag(page, (box["x"] + block[0], box["y"] + block[1]), (box["x"] + block[2], box["y"] + block[3]))
    wait_rois(page, 1)
    (roi,) = all_rois(stub, viewer)
    points = np.array([[p.x, p.y] for p in stub.ROIPoints(roi).points])
    assert np.allclose(points.min(axis=0), [39.5, 19.5], atol=0.6) and np.allclose(
        points.max(axis=0), [49.5, 29.5], atol=0.6
    )
    page.click("#vw-reset")


def test_an_roi_edited_in_the_page_is_edited_in_osirix(page: Any, host: tuple[RunningHost, str]) -> None:
    stub = host[0].stub()
    viewer = show_series(page, stub, "axial ct")
    delete_all_rois(stub, viewer)
    index = page.evaluate("window.osirixTasks.viewer.state.slice")
    new_rect_roi(stub, viewer, index, (39.5, 19.5, 10, 10), (255, 0, 255))
    wait_rois(page, 1)
    box = viewport_box(page)
    # the image's physical size (64 x 0.7 mm square) fitted into the viewport: screen px per image px
    per_pixel = min(box["width"], box["height"]) / SIZE
    page.click("#vw-tools button[data-tool='select']")
    block = bright_box(page)
    start = (box["x"] + (block[0] + block[2]) / 2, box["y"] + (block[1] + block[3]) / 2)
    drag(page, start, (start[0] + 8 * per_pixel, start[1] + 4 * per_pixel))
    page.wait_for_function("window.osirixTasks.viewer.rois[0]?.points[0][0] > 45", timeout=10000)
    uid = viewer.osirixrpc_uid
    result = run_pyosirix(
        host[0],
        f"""
        import json, numpy as np, osirix
        viewer = [v for v in osirix.displayed_2d_viewers() if v.pb2_object.osirixrpc_uid == {uid!r}][0]
        roi = viewer.rois_with_name("block")[0]
        print(json.dumps(np.asarray(roi.points).tolist()))
        """,
    )
    points = np.asarray(result)
    assert np.allclose(points.min(axis=0), [47.5, 23.5], atol=0.6), points
    # rename and recolour through the in-page form (no prompt())
    page.click("#vw-edit")
    page.fill("#vw-roi-form input[name='name']", "moved block")
    page.eval_on_selector("#vw-roi-form input[name='color']", "e => { e.value = '#00ff00'; }")
    page.click("#vw-roi-form button[type='submit']")
    page.wait_for_function("window.osirixTasks.viewer.rois[0]?.name === 'moved block'", timeout=10000)
    roi = stub.ViewerControllerSelectedROIs(viewer).rois[0]
    assert stub.ROIName(roi).name == "moved block"
    colour = stub.ROIColor(roi)
    assert (colour.r, colour.g, colour.b) == (0, 255, 0)
    # the statistics are OsiriX's (DCMPixComputeROI): the block is 3000 everywhere it was; now partly moved off
    row = page.inner_text("#vw-rois tbody tr")
    assert "moved block" in row


def test_orientation_markers_read_right(page: Any, host: tuple[RunningHost, str]) -> None:
    stub = host[0].stub()
    show_series(page, stub, "axial ct")
    markers = page.eval_on_selector_all(
        "#vw-grid .viewport:nth-child(1) .marker", "m => m.map(e => e.className + ':' + e.textContent)"
    )
    assert set(markers) == {"marker top:A", "marker bottom:P", "marker left:R", "marker right:L"}
    show_series(page, stub, "sagittal ct")
    markers = page.eval_on_selector_all(
        "#vw-grid .viewport:nth-child(1) .marker", "m => m.map(e => e.className + ':' + e.textContent)"
    )
    assert set(markers) == {"marker top:S", "marker bottom:I", "marker left:A", "marker right:P"}


def axial_volume(data: Path, name: str) -> np.ndarray:
    """The series as numpy reads it: slices sorted from the head down (superior on top of a reformat)."""
    files = [pydicom.dcmread(p) for p in sorted((data / name).glob("*.dcm"))]
    files.sort(key=lambda ds: -float(ds.ImagePositionPatient[2]))
    return np.stack([ds.pixel_array.astype(np.float32) for ds in files])


def test_mpr_planes_equal_numpy_reslices(page: Any, host: tuple[RunningHost, str], data: Path) -> None:
    stub = host[0].stub()
    show_series(page, stub, "axial ct")
    page.click("#vw-mpr")
    page.wait_for_function(
        "window.osirixTasks.viewer.viewports.length === 3 && window.osirixTasks.viewer.viewports.every(v => v.plane)",
        timeout=20000,
    )
    volume = axial_volume(data, "axial")  # superior first
    # crosshair in the acquired plane at column 45, row 12: the reformats go there
    page.evaluate("window.osirixTasks.viewer.crosshair(0, [45, 12])")
    page.wait_for_function(
        "(() => { const v = window.osirixTasks.viewer.viewports; return v[1].slice === 12 && v[2].slice === 45 && v[1].planeSlice === 12 && v[2].planeSlice === 45; })()",  # noqa: E501
        timeout=20000,
    )
    row_plane = np.asarray(
        page.evaluate("Array.from(window.osirixTasks.viewer.viewports[1].plane.values)"), dtype=np.float32
    )
    column_plane = np.asarray(
        page.evaluate("Array.from(window.osirixTasks.viewer.viewports[2].plane.values)"), dtype=np.float32
    )
    assert np.array_equal(row_plane.reshape(volume.shape[0], SIZE), volume[:, 12, :])
    assert np.array_equal(column_plane.reshape(volume.shape[0], SIZE), volume[:, :, 45])
    markers = page.eval_on_selector_all(
        "#vw-grid .viewport:nth-child(2) .marker", "m => m.map(e => e.className + ':' + e.textContent)"
    )
    assert set(markers) == {"marker top:S", "marker bottom:I", "marker left:R", "marker right:L"}
    page.click("#vw-mpr")
    # a tilted series is refused with the reason (no resampling)
    show_series(page, stub, "tilted ct")
    page.click("#vw-mpr")
    page.wait_for_function("document.querySelector('#vw-status').textContent.includes('gantry tilt')", timeout=20000)
    assert page.evaluate("window.osirixTasks.viewer.mpr") is None


def grey_at(page: Any, x: float, y: float) -> int:
    return int(page.evaluate(CANVAS_AT, [layer(0, "image"), x, y])[0])


@pytest.mark.parametrize("renderer", ["webgl2", "canvas"])
def test_both_renderers_window_the_plane_as_osirix(
    browser: Any, host: tuple[RunningHost, str], renderer: str, page_errors: list[str]
) -> None:
    stub = host[0].stub()
    url = host[1].replace("/?", f"/?renderer={renderer}&")
    page = new_page(browser, url, page_errors)
    try:
        show_series(page, stub, "axial ct")
        assert page.evaluate("window.osirixTasks.viewer.renderer") == renderer
        page.evaluate(
            "(() => { const v = window.osirixTasks.viewer.active; v.window.wl = 1000; v.window.ww = 4000; v.render(); })()"  # noqa: E501
        )
        block = bright_box(page)
        centre = ((block[0] + block[2]) / 2, (block[1] + block[3]) / 2)
        expected = int(np.clip(np.floor((3000 - (1000 - 2000)) * 255 / 4000), 0, 255))
        assert abs(grey_at(page, *centre) - expected) <= 1
        page.click("#vw-invert")
        assert abs(grey_at(page, *centre) - (255 - expected)) <= 1
    finally:
        page.close()


#: A plane of the open series' shape in one of the encodings the host sends: 0 everywhere but the block.
FORMAT_PLANE = """([format, value]) => {
  const vp = window.osirixTasks.viewer.active, n = vp.plane.rows * vp.plane.columns, columns = vp.plane.columns;
  const arrays = { int16: Int16Array, uint16: Uint16Array, float32: Float32Array, argb8: Uint8Array };
  const values = new arrays[format](format === 'argb8' ? 4 * n : n);
  for (let y = 20; y < 30; y++) for (let x = 40; x < 50; x++) {
    if (format === 'argb8') values.set([255, ...value], 4 * (y * columns + x)); else values[y * columns + x] = value;
  }
  vp.plane = { key: 'test:' + format, rows: vp.plane.rows, columns, format, values };
  vp.render();
  return vp.toScreen([44.5, 24.5]);
}"""


@pytest.mark.parametrize("renderer", ["auto", "webgl2", "canvas"])
def test_every_plane_encoding_is_windowed_alike(
    browser: Any, host: tuple[RunningHost, str], renderer: str, page_errors: list[str]
) -> None:
    """16-bit planes (signed, unsigned), float planes and ARGB planes, as the host sends them, show the
    grey of OsiriX's formula in both renderers; the page picks the 2D canvas where WebGL2 is software."""
    url = host[1].replace("/?", f"/?renderer={renderer}&")
    page = new_page(browser, url, page_errors)
    try:
        show_series(page, host[0].stub(), "axial ct")
        assert page.evaluate("window.osirixTasks.viewer.renderer") == ("canvas" if renderer == "auto" else renderer)
        for kind, value, wl, ww in [
            ("int16", -700, -600, 400),
            ("uint16", 60000, 59000, 4000),
            ("float32", 12.25, 10, 10),
        ]:
            page.evaluate(
                f"(() => {{ const w = window.osirixTasks.viewer.active.window; w.wl = {wl}; w.ww = {ww}; }})()"
            )
            centre = page.evaluate(FORMAT_PLANE, [kind, value])
            expected = int(np.clip(np.floor((value - (wl - ww / 2)) * 255 / ww), 0, 255))
            background = int(np.clip(np.floor((0 - (wl - ww / 2)) * 255 / ww), 0, 255))
            assert abs(grey_at(page, *centre) - expected) <= 1, kind
            assert abs(grey_at(page, centre[0] - 80, centre[1]) - background) <= 1, kind
        centre = page.evaluate(FORMAT_PLANE, ["argb8", [200, 100, 50]])
        assert np.abs(np.array(page.evaluate(CANVAS_AT, [layer(0, "image"), *centre])[:3]) - [200, 100, 50]).max() <= 1
    finally:
        page.close()


#: Counts, beside the page's code, the WebGL2 contexts made and lost and each context's textures alive.
GL_COUNTER = """(() => {
  const counts = { contexts: 0, lost: 0, alive: new Map() };
  window.glCounts = () => ({ contexts: counts.contexts, lost: counts.lost,
    textures: [...counts.alive.values()].reduce((a, b) => a + b, 0) });
  const getContext = HTMLCanvasElement.prototype.getContext;
  HTMLCanvasElement.prototype.getContext = function (kind, ...rest) {
    const known = kind === 'webgl2' && this.glCounted;
    const context = getContext.call(this, kind, ...rest);
    if (kind === 'webgl2' && context && !known) {
      this.glCounted = true; counts.contexts++; counts.alive.set(context, 0);
      this.addEventListener('webglcontextlost', () => { counts.lost++; counts.alive.delete(context); });
    }
    return context;
  };
  const gl = WebGL2RenderingContext.prototype, create = gl.createTexture, remove = gl.deleteTexture;
  const add = (context, n) => counts.alive.set(context, (counts.alive.get(context) ?? 0) + n);
  gl.createTexture = function () { add(this, 1); return create.call(this); };
  gl.deleteTexture = function (t) { if (t) add(this, -1); return remove.call(this, t); };
})()"""


def test_a_layout_change_gives_back_the_webgl_contexts_and_textures(
    browser: Any, host: tuple[RunningHost, str], page_errors: list[str]
) -> None:
    """Viewports leaving the layout lose their WebGL2 context and delete their textures (browsers keep a
    few contexts only: a leak makes them drop a live viewport's), and a viewer still on its way to a
    viewport that left makes no renderer; counted by wrapping WebGL itself, not by the page's bookkeeping."""
    stub = host[0].stub()
    page = browser.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.add_init_script(GL_COUNTER)
    try:
        page.goto(host[1].replace("/?", "/?renderer=webgl2&"))
        page.wait_for_selector("body[data-ready='1']", timeout=20000)
        page.click("#tabs a[data-view='viewer']")
        for _ in range(3):
            page.select_option("#vw-layout", "2x2")
            for index in range(4):
                show_series(page, stub, "axial ct", index)
                page.evaluate(f"window.osirixTasks.viewer.setSlice({3 + index})")
                page.wait_for_function(f"window.osirixTasks.viewer.viewports[{index}].stats.painted === {3 + index}")
            counts = page.evaluate("window.glCounts()")
            assert counts["contexts"] - counts["lost"] == 4 and counts["textures"] >= 8, counts
            page.select_option("#vw-layout", "1x1")
            counts = page.evaluate("window.glCounts()")
            kept = page.evaluate("window.osirixTasks.viewer.viewports[0].drawer.textures.size")
            assert counts["contexts"] - counts["lost"] == 1, counts
            assert counts["textures"] == kept >= 2, counts
            assert page.locator("#vw-grid canvas").count() == 2
        # a viewer asked for in a viewport that leaves before it comes
        uid = page.evaluate("window.osirixTasks.viewer.viewports[0].viewer.uid")
        page.select_option("#vw-layout", "1x2")
        page.evaluate("([uid]) => { window.osirixTasks.viewer.openViewer(1, uid); }", [uid])
        page.select_option("#vw-layout", "1x1")
        page.wait_for_timeout(800)
        counts = page.evaluate("window.glCounts()")
        assert counts["contexts"] - counts["lost"] == 1, counts
    finally:
        page.close()
    assert not page_errors, page_errors


def test_corners_pixel_value_cine_keys_and_view_changes(page: Any, host: tuple[RunningHost, str]) -> None:
    stub = host[0].stub()
    show_series(page, stub, "axial ct")
    corners = page.inner_text("#vw-grid .viewport:nth-child(1) .corner.tr")
    assert "Viewer^Test" in corners and "VT-1" in corners and "viewer study" in corners
    box = viewport_box(page)
    block = bright_box(page)
    page.mouse.move(box["x"] + (block[0] + block[2]) / 2, box["y"] + (block[1] + block[3]) / 2)
    assert "Value: 3000" in page.inner_text("#vw-grid .viewport:nth-child(1) .corner.bl")
    page.keyboard.press("Home")
    page.wait_for_function("window.osirixTasks.viewer.state.slice === 0")
    top_left = page.inner_text("#vw-grid .viewport:nth-child(1) .corner.tl")
    assert "Image: 1 / 20" in top_left and "Thickness: 2.50 mm" in top_left
    page.keyboard.press("End")
    page.wait_for_function("window.osirixTasks.viewer.state.slice === 19")
    page.keyboard.press("Home")
    page.keyboard.press(" ")  # cine over the slices
    page.wait_for_function("window.osirixTasks.viewer.state.slice >= 3", timeout=10000)
    page.keyboard.press(" ")
    # flip left-right: the block (right of centre) goes left of centre; rotate: it goes below
    before = bright_box(page)
    page.click("#vw-flip-h")
    flipped = bright_box(page)
    middle = box["width"] / 2
    assert before[0] > middle and flipped[2] < middle
    page.click("#vw-reset")
    page.click("#vw-rotate")
    rotated = bright_box(page)
    assert rotated[1] > box["height"] / 2
    page.click("#vw-reset")


def test_overlay_planes_are_drawn(page: Any, host: tuple[RunningHost, str]) -> None:
    stub = host[0].stub()
    show_series(page, stub, "overlay ct")
    page.wait_for_function("window.osirixTasks.viewer.active.overlays.size > 0", timeout=10000)
    drawn = overlay_box(page, (255, 255, 0))
    # the plane's bits: rows 50-53, columns 8-23 (origin 1,1): where the camera puts those pixels
    expected = page.evaluate(
        "(() => { const v = window.osirixTasks.viewer.active; return [v.toScreen([7.5, 49.5]), v.toScreen([23.5, 53.5])]; })()"  # noqa: E501
    )
    assert np.allclose(drawn, [*expected[0], *expected[1]], atol=2)


def test_layouts_thumbnails_and_synchronised_scrolling(page: Any, host: tuple[RunningHost, str], data: Path) -> None:
    stub = host[0].stub()
    page.click("#tabs a[data-view='viewer']")
    page.select_option("#vw-layout", "1x2")
    assert page.evaluate("window.osirixTasks.viewer.viewports.length") == 2
    show_series(page, stub, "axial ct", 0)
    page.wait_for_selector("#vw-series .series-thumb")
    thumb = page.locator("#vw-series .series-thumb", has_text="axial fine")
    thumb.drag_to(page.locator("#vw-grid .viewport").nth(1))
    page.wait_for_function(
        "window.osirixTasks.viewer.viewports[1].source?.geometry?.header?.series === 'axial fine'", timeout=15000
    )
    page.click("#vw-sync")
    page.evaluate("window.osirixTasks.viewer.activate(0)")
    page.evaluate("window.osirixTasks.viewer.setSlice(7)")
    # the nearest slice of the fine series to the coarse one's slice 7, from the files
    coarse = sorted(float(pydicom.dcmread(p).ImagePositionPatient[2]) for p in (data / "axial").glob("*.dcm"))
    fine = sorted(float(pydicom.dcmread(p).ImagePositionPatient[2]) for p in (data / "fine").glob("*.dcm"))
    order = page.evaluate("window.osirixTasks.viewer.viewports[0].source.geometry.origins.map(o => o[2])")
    fine_order = page.evaluate("window.osirixTasks.viewer.viewports[1].source.geometry.origins.map(o => o[2])")
    assert sorted(order) == coarse and sorted(fine_order) == fine
    wanted = int(np.argmin(np.abs(np.asarray(fine_order) - order[7])))
    page.wait_for_function(f"window.osirixTasks.viewer.viewports[1].slice === {wanted}", timeout=10000)
    page.click("#vw-sync")
    page.select_option("#vw-layout", "1x1")


def open_from_database(page: Any, description: str) -> str:
    """Open a series as a user does (a double-click on its row in the database window); the new
    viewer's uid once the page paints it. Only the elements the page had before issue 23 are used, so
    the test can also be run against that page (benchmarks/page_at.py)."""
    before = page.evaluate("window.osirixTasks.viewer.state.viewer?.uid ?? null")
    page.click("#tabs a[data-view='database']")
    row = page.locator("#db-table tbody tr.series", has_text=description).first
    row.wait_for()
    row.dblclick()
    page.wait_for_selector("#view-viewer.active")
    page.wait_for_function(
        "(b) => { const v = window.osirixTasks.viewer; return v.state.viewer && v.state.viewer.uid !== b && v.stats.paints > 0; }",  # noqa: E501
        arg=before,
        timeout=20000,
    )
    return str(page.evaluate("window.osirixTasks.viewer.state.viewer.uid"))


def test_the_3d_window_is_sharp_zooms_has_presets_and_an_orientation_cube(
    browser: Any, host: tuple[RunningHost, str], page_errors: list[str], data: Path
) -> None:
    stub = host[0].stub()
    page = new_page(browser, host[1], page_errors, ratio=2)  # a high-density screen
    try:
        show_series(page, stub, "axial ct")
        page.click("#vw-mip")
        page.wait_for_selector("#view-vr.active")
        # once still, the picture has as many pixels as the screen shows (CSS size x device pixel ratio)
        side = page.evaluate("document.querySelector('#vr-canvas').getBoundingClientRect().width")
        sharp = min(768, round(side * 2))
        page.wait_for_function(f"window.osirixTasks.vr.size === {sharp}", timeout=60000)
        assert page.evaluate("document.querySelector('#vr-canvas').width") == sharp
        # the orientation cube: the eye looks from the first image the viewer shows (OsiriX orders them by
        # instance number) towards the last; the files say which way that is along the patient's axis
        files = sorted((pydicom.dcmread(p) for p in (data / "axial").glob("*.dcm")), key=lambda ds: ds.InstanceNumber)
        rising = float(files[-1].ImagePositionPatient[2]) > float(files[0].ImagePositionPatient[2])
        faces = page.evaluate("window.osirixTasks.vr.cube")
        rightmost = max(faces, key=lambda f: f["x"])["letter"]
        lowest = max(faces, key=lambda f: f["y"])["letter"]
        assert (rightmost, lowest) == ("L", "P")
        assert [f["letter"] for f in faces if f["visible"]] == ["I" if rising else "S"]
        # the wheel zooms: the bright block grows on the picture
        before = bright_width(page)
        box = page.locator("#vr-canvas").bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        for _ in range(7):
            page.mouse.wheel(0, -100)
        page.wait_for_function(f"window.osirixTasks.vr.zoom > 1.9 && window.osirixTasks.vr.size === {sharp}")
        page.wait_for_function("document.querySelector('#vr-angles').textContent.includes('zoom 2.01')", timeout=60000)
        page.wait_for_function(f"window.osirixTasks.vr.size === {sharp}", timeout=60000)
        assert bright_width(page) == pytest.approx(2.01 * before, rel=0.15)
        # a preset sets the 3D window's WL/WW through the protocol (a task sees it) and its colours
        page.select_option("#vr-preset", "VR Bones")
        vr = stub.OsirixFrontmostVRController(EMPTY).vr_controller
        page.wait_for_function("window.osirixTasks.vr.info.wl === 300", timeout=20000)
        wlww = stub.VRControllerWLWW(vr)
        assert (wlww.wl, wlww.ww) == (300, 1500)  # OsiriX's bone window
    finally:
        page.close()


def bright_width(page: Any) -> float:
    """The widest run of the 3D picture's bright pixels, as a fraction of its width."""
    box = page.evaluate(CANVAS_BOX.replace("window.devicePixelRatio", "1"), ["#vr-canvas", None, 0, 200])
    width = page.evaluate("document.querySelector('#vr-canvas').width")
    assert box, "nothing bright in the 3D picture"
    return (box[2] - box[0]) / width


# Issue 18 item 20, each bug through the page's own controls (each fails against the page of commit
# fe377e6: benchmarks/page_at.py).


def test_item_20_a_plane_change_during_a_wl_drag_raises_no_error(page: Any, page_errors: list[str]) -> None:
    open_from_database(page, "axial ct")
    page.click("#vw-tools button[data-tool='wlww']")
    page.keyboard.press("Home")
    page.wait_for_function("window.osirixTasks.viewer.state.slice === 0")
    stage = page.locator("#vw-stage").bounding_box()
    middle = (stage["x"] + stage["width"] / 2, stage["y"] + stage["height"] / 2)
    page.mouse.move(*middle)
    page.mouse.down()
    page.mouse.move(middle[0] + 40, middle[1] + 30, steps=3)
    page.keyboard.press("ArrowDown")  # the overlay repaints while the drag goes on
    page.mouse.move(middle[0] + 60, middle[1] + 50, steps=3)
    page.mouse.up()
    page.wait_for_function("window.osirixTasks.viewer.state.slice === 1")
    page.wait_for_timeout(300)
    assert not page_errors


def test_item_20_the_window_list_title_follows_the_scroll(page: Any, host: tuple[RunningHost, str]) -> None:
    uid = open_from_database(page, "axial ct")
    page.keyboard.press("Home")
    for _ in range(5):
        page.keyboard.press("ArrowDown")
    page.wait_for_function(
        "document.querySelector('#vw-list').selectedOptions[0]?.textContent.includes('6/20')", timeout=10000
    )
    assert "6/20" in host[0].stub().ViewerControllerTitle(types_pb2.ViewerController(osirixrpc_uid=uid)).title


def test_item_20_preset_name_and_untitled_title(page: Any) -> None:
    open_from_database(page, "axial ct")
    page.select_option("#vw-preset", "Bone")
    untitled = open_from_database(page, "unnamed")
    # the preset list does not keep the name of a preset the other viewer's window is not
    assert page.eval_on_selector("#vw-preset", "e => e.value") in ("", "Default")
    # an untitled study's viewer has no empty title parts
    page.wait_for_function(f"document.querySelector('#vw-list').value === {untitled!r}", timeout=10000)
    title = page.evaluate("document.querySelector('#vw-list').selectedOptions[0].textContent")
    assert not title.startswith(" -") and " -  - " not in title, title


def test_item_20_the_toolbars_do_not_wrap_at_1440_px(page: Any) -> None:
    open_from_database(page, "axial ct")
    for toolbar in page.locator("#view-viewer .toolbar").all():
        tops = toolbar.evaluate(
            "t => [...t.querySelectorAll('button, select')].filter(e => e.offsetParent)"
            ".map(e => e.getBoundingClientRect().top)"
        )
        assert max(tops) - min(tops) < 4, tops


def test_item_20_series_rows_and_counts(page: Any) -> None:
    page.click("#tabs a[data-view='database']")
    page.wait_for_selector("#db-table tbody tr.series")
    # series rows show their description under Description, not the SeriesInstanceUID
    column = page.eval_on_selector_all("#db-table thead th", "h => h.map(e => e.textContent)").index("Description")
    cells = page.eval_on_selector_all(
        f"#db-table tbody tr.series td:nth-child({column + 1})", "c => c.map(e => e.textContent.trim())"
    )
    assert "axial ct" in cells and not any(re.fullmatch(r"[0-9.]{20,}", c) for c in cells), cells
    # counts in words
    page.locator("#db-table tbody tr.study").first.click()
    page.wait_for_function("document.querySelector('#db-status').textContent.startsWith('selected 1 stud')")
    assert page.inner_text("#db-status") == "selected 1 study and 0 series"


def test_item_20_the_cli_numbers_images_from_1(page: Any, host: tuple[RunningHost, str]) -> None:
    open_from_database(page, "axial ct")  # the frontmost viewer, as the page (and OsiriX) numbers it
    added = host[0].cli("roi", "add", "--type", "point", "--point", "3", "3", "--slice", "1", "--name", "first image")
    assert added.returncode == 0, added.stderr
    listed = host[0].cli("roi", "list").stdout
    assert re.search(r"first image\s+\S+\s+image 1 ", listed), listed
    assert "Image 1 / 20" in page.inner_text("#vw-grid .viewport:nth-child(1) .corner.tl").replace(":", "")


def new_brush_roi(stub: Any, viewer: Any, index: int, name: str, mask: np.ndarray, at: tuple[int, int]) -> None:
    """A brush ROI (OsiriX's tPlain, 20) of ``mask`` (rows x columns) with its top left at ``at`` (x, y)."""
    request = viewercontroller_pb2.ViewerControllerNewROIRequest
    answer = stub.ViewerControllerNewROI(
        request(
            viewer_controller=viewer,
            itype=20,
            idx=index,
            movie_idx=0,
            name=name,
            color=request.Color(r=255, g=128, b=0),
            opacity=1.0,
            thickness=1.0,
            buffer=request.Buffer(rows=mask.shape[0], columns=mask.shape[1], buffer=mask.ravel().astype(int).tolist()),
            buffer_position_x=at[0],
            buffer_position_y=at[1],
        )
    )
    assert answer.status.status == 1, answer.status.message


def exported(page: Any, fmt: str) -> tuple[str, bytes]:
    """Choose ``fmt`` in the viewer's Export ROIs menu; the downloaded file's name and bytes."""
    try:
        with page.expect_download(timeout=20000) as info:
            page.select_option("#vw-export", fmt)
        download = info.value
    except playwright_api.TimeoutError:
        raise AssertionError(f"no download; the viewer says {page.inner_text('#vw-status')!r}") from None
    path = download.path()
    assert path is not None, download.failure()
    return download.suggested_filename, Path(path).read_bytes()


def test_export_rois_saves_the_viewers_rois_as_csv_and_seg(page: Any, host: tuple[RunningHost, str]) -> None:
    """The viewer's Export ROIs menu downloads the ROIs the protocol made (the page's token goes in a
    header, the file is saved from a Blob): the CSV has a row each with OsiriX's measurements, computed
    here from the masks and the files' spacing; the SEG read with pydicom holds exactly the brush masks
    drawn, on the files of their slices."""
    stub = host[0].stub()
    viewer = show_series(page, stub, "axial ct")
    delete_all_rois(stub, viewer)
    page.wait_for_timeout(300)
    shape_l = np.zeros((9, 12), dtype=bool)
    shape_l[:, :3] = True
    shape_l[6:, :] = True
    yy, xx = np.mgrid[:11, :11]
    disc = (yy - 5) ** 2 + (xx - 5) ** 2 <= 16
    new_brush_roi(stub, viewer, 4, "liver", shape_l, (30, 15))
    new_brush_roi(stub, viewer, 9, "lesion", disc, (8, 40))
    point = viewercontroller_pb2.ViewerControllerNewROIRequest.Point2D
    line = viewercontroller_pb2.ViewerControllerNewROIRequest(
        viewer_controller=viewer, itype=5, idx=9, movie_idx=0, name="span", opacity=1.0, thickness=1.0,
        points=[point(x=10, y=50), point(x=40, y=50)],
    )  # fmt: skip
    assert stub.ViewerControllerNewROI(line).status.status == 1

    name, body = exported(page, "csv")
    assert name == "rois.csv"
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8"))))
    assert sorted((r["name"], r["type"], r["slice"]) for r in rows) == [
        ("lesion", "20", "10"), ("liver", "20", "5"), ("span", "5", "10"),
    ]  # fmt: skip
    by_name = {r["name"]: r for r in rows}
    pixel_area = 0.7 * 0.7  # the files' PixelSpacing
    assert float(by_name["liver"]["area_mm2"]) == pytest.approx(shape_l.sum() * pixel_area, rel=1e-4)
    assert float(by_name["lesion"]["area_mm2"]) == pytest.approx(disc.sum() * pixel_area, rel=1e-4)
    assert float(by_name["span"]["length_mm"]) == pytest.approx(30 * 0.7, rel=1e-4)
    page.wait_for_function("document.querySelector('#vw-status').textContent.includes('rois.csv')")

    name, body = exported(page, "seg")
    assert name == "rois.dcm"
    seg = pydicom.dcmread(io.BytesIO(body))
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"  # Segmentation Storage
    labels = {s.SegmentNumber: s.SegmentLabel for s in seg.SegmentSequence}
    frames = seg.pixel_array.reshape(-1, int(seg.Rows), int(seg.Columns))
    found: dict[tuple[str, str], np.ndarray] = {}
    for frame, group in zip(frames, seg.PerFrameFunctionalGroupsSequence, strict=True):
        source = group.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID
        label = labels[group.SegmentIdentificationSequence[0].ReferencedSegmentNumber]
        found[(str(source), label)] = found.get((str(source), label), False) | frame.astype(bool)
    pix = stub.ViewerControllerPixList(
        viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=0)
    ).pix
    sop = [str(pydicom.dcmread(stub.DCMPixSourceFile(p).source_file).SOPInstanceUID) for p in pix]
    expected = {(sop[4], "liver"): (shape_l, (30, 15)), (sop[9], "lesion"): (disc, (8, 40))}
    assert {key for key, mask in found.items() if mask.any()} == set(expected)
    for key, (mask, (x, y)) in expected.items():
        wanted = np.zeros((SIZE, SIZE), dtype=bool)
        wanted[y : y + mask.shape[0], x : x + mask.shape[1]] = mask
        assert np.array_equal(found[key], wanted), key
    assert highdicom.seg.segread(io.BytesIO(body)).number_of_segments == 2

    delete_all_rois(stub, viewer)  # nothing to export: the page says so, and saves nothing
    page.select_option("#vw-export", "csv")
    page.wait_for_function("document.querySelector('#vw-status').classList.contains('error')")
    assert "no ROIs to export" in page.inner_text("#vw-status")

    # a series without a Frame of Reference UID: no SEG, and the page names the file and what to do
    other = show_series(page, stub, "sagittal ct")
    new_brush_roi(stub, other, 2, "patch", disc, (8, 8))
    page.select_option("#vw-export", "seg")
    page.wait_for_function("document.querySelector('#vw-status').textContent.includes('Frame of Reference')")
    message = page.inner_text("#vw-status")
    source = stub.DCMPixSourceFile(
        stub.ViewerControllerPixList(
            viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=other, movie_idx=0)
        ).pix[2]
    ).source_file
    assert source in message and "export CSV or JSON instead" in message, message
    delete_all_rois(stub, other)


# On the overlay canvas (device px, read as drawn): the label's box is the only translucent black (the
# page fills it with alpha .55), its text the only pure white. White pixels in a band around the ROI's
# outline box (the edit handles of a selected ROI) are left out. Boxes in CSS px.
LABEL_PIXELS = """([s, outline]) => {
  const c = document.querySelector(s), r = c.width / c.clientWidth;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const box = () => ({ x0: Infinity, y0: Infinity, x1: -1, y1: -1, n: 0 });
  const dark = box(), white = box();
  const grow = (b, px, py) => { b.n++; b.x0 = Math.min(b.x0, px); b.y0 = Math.min(b.y0, py);
    b.x1 = Math.max(b.x1, px + 1); b.y1 = Math.max(b.y1, py + 1); };
  const [o0, o1, o2, o3] = outline.map((v) => v * r), band = 6 * r;
  const nearOutline = (px, py) => px > o0 - band && px < o2 + band && py > o1 - band && py < o3 + band
    && !(px > o0 + band && px < o2 - band && py > o1 + band && py < o3 - band);
  for (let i = 0; i < d.length; i += 4) {
    const p = i >> 2, px = p % c.width, py = (p - px) / c.width;
    if (d[i + 3] > 100 && d[i + 3] < 180 && d[i] + d[i + 1] + d[i + 2] <= 6) grow(dark, px, py);
    else if (Math.min(d[i], d[i + 1], d[i + 2], d[i + 3]) >= 240 && !nearOutline(px, py)) grow(white, px, py);
  }
  const css = (b) => (b.n ? [b.x0 / r, b.y0 / r, b.x1 / r, b.y1 / r] : null);
  return { box: css(dark), text: css(white), ratio: r };
}"""


def assert_label_encloses_text(page: Any, when: str) -> None:
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    outline = overlay_box(page, (255, 0, 255))
    found = page.evaluate(LABEL_PIXELS, [layer(0, "overlay"), list(outline)])
    box, text = found["box"], found["text"]
    assert box and text, f"{when}: no label box or no label text on the overlay: {found}"
    assert text[2] - text[0] > 40 and text[3] - text[1] > 30, f"{when}: the text is not the label's 4 lines: {found}"
    # the box's edge pixels are part-covered (not counted as box): half a CSS px of slack
    inside = box[0] - 0.5 <= text[0] and box[1] - 0.5 <= text[1] and text[2] <= box[2] + 0.5 and text[3] <= box[3] + 0.5
    assert inside, f"{when}: the label's text {text} is not inside its box {box} (devicePixelRatio {found['ratio']})"


@pytest.mark.parametrize("ratio", [1, 2])
def test_an_roi_label_box_encloses_its_text_at_any_zoom(
    browser: Any, host: tuple[RunningHost, str], ratio: int
) -> None:
    """The dark box behind an ROI's name and statistics sits under the text as Chromium paints it: after
    the first paint and repaints (the scale bar's right-aligned text once leaked into the labels),
    zoomed in and out, selected (bold), with 1 and 2 device px a CSS px."""
    errors: list[str] = []
    page = new_page(browser, host[1], errors, ratio=ratio)
    try:
        stub = host[0].stub()
        viewer = show_series(page, stub, "axial ct")
        delete_all_rois(stub, viewer)
        index = page.evaluate("window.osirixTasks.viewer.state.slice")
        new_rect_roi(stub, viewer, index, (25.5, 35.5, 10, 10), (255, 0, 255))
        wait_rois(page, 1)
        page.wait_for_function("window.osirixTasks.viewer.rois[0]?.mean != null", timeout=10000)
        assert_label_encloses_text(page, "fitted")
        box = viewport_box(page)
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        drag(page, centre, (centre[0], centre[1] - 100), "right")  # right drag up: zoom in (OsiriX)
        assert page.evaluate("window.osirixTasks.viewer.active.camera.zoom") > 1.5
        assert_label_encloses_text(page, "zoomed in")
        drag(page, centre, (centre[0], centre[1] + 160), "right")
        assert page.evaluate("window.osirixTasks.viewer.active.camera.zoom") < 1
        assert_label_encloses_text(page, "zoomed out")
        page.click("#vw-reset")
        page.click("#vw-tools button[data-tool='select']")
        outline = overlay_box(page, (255, 0, 255))
        page.mouse.click(box["x"] + (outline[0] + outline[2]) / 2, box["y"] + (outline[1] + outline[3]) / 2)
        page.wait_for_function("window.osirixTasks.viewer.rois[0]?.selected === true", timeout=10000)
        assert_label_encloses_text(page, "selected")
        delete_all_rois(stub, viewer)
        wait_rois(page, 0)
    finally:
        page.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


#: The active viewport's outline colour (style.css: .viewport.active).
ACTIVE_OUTLINE = np.array([0xD9, 0xB4, 0x00])


def outline_gaps(page: Any, index: int = 0) -> dict[str, int]:
    """Where the active viewport's outline is missing, as Chromium composites the page: for each edge, how
    many screen px along it have no outline-coloured pixel within 2 px inside the viewport's box (corners
    left out). A screenshot of the box plus 2 px, so the canvases' CSS transforms count."""
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    box = viewport_box(page, index)
    x0, y0 = int(np.floor(box["x"])) - 2, int(np.floor(box["y"])) - 2
    x1, y1 = int(np.ceil(box["x"] + box["width"])) + 2, int(np.ceil(box["y"] + box["height"])) + 2
    shot = page.screenshot(clip={"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}, animations="disabled")
    pixels = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=int)
    assert pixels.shape[:2] == (y1 - y0, x1 - x0), pixels.shape  # device px = CSS px (ratio 1)
    hit = np.abs(pixels - ACTIVE_OUTLINE).sum(axis=2) < 40
    # the box's edges in the shot, and the band (2 px wide, plus a px for a fractional edge) along each
    left, top = round(box["x"]) - x0, round(box["y"]) - y0
    right, bottom = round(box["x"] + box["width"]) - x0, round(box["y"] + box["height"]) - y0
    inner = slice(top + 4, bottom - 4), slice(left + 4, right - 4)
    bands = {
        "top": hit[top - 1 : top + 3, inner[1]].any(axis=0),
        "bottom": hit[bottom - 3 : bottom + 1, inner[1]].any(axis=0),
        "left": hit[inner[0], left - 1 : left + 3].any(axis=1),
        "right": hit[inner[0], right - 3 : right + 1].any(axis=1),
    }
    return {edge: int((~band).sum()) for edge, band in bands.items()}


def test_the_active_viewports_outline_shows_on_all_four_edges(page: Any, host: tuple[RunningHost, str]) -> None:
    """The yellow outline of the active viewport is seen whole (every px of its four edges) over the
    image canvas, which its CSS transform places anywhere: fitted, zoomed in (the image then covers the
    whole viewport) and panned."""
    stub = host[0].stub()
    show_series(page, stub, "axial ct")
    page.click("#vw-reset")
    assert outline_gaps(page) == dict.fromkeys(("top", "bottom", "left", "right"), 0), "fitted"
    box = viewport_box(page)
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    drag(page, centre, (centre[0], centre[1] - 150), "right")  # right drag up: zoom in (OsiriX)
    assert page.evaluate("window.osirixTasks.viewer.active.camera.zoom") > 1.5
    assert outline_gaps(page) == dict.fromkeys(("top", "bottom", "left", "right"), 0), "zoomed in"
    drag(page, centre, (centre[0] - 170, centre[1] + 90), "middle")  # middle drag: pan
    assert outline_gaps(page) == dict.fromkeys(("top", "bottom", "left", "right"), 0), "zoomed in and panned"
    page.click("#vw-reset")
