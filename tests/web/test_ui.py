"""The web UI in real headless Chromium (Debian's chromium, driven by Playwright) against a real host.

One host and one browser page serve the whole module; each test saves a screenshot of the window it
exercised under a temporary folder (printed). Expected values come from the host through the
OsiriXgrpc protocol (its own stubs) or from the files the page edits, never from the page itself.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from osirixgrpc import dcmpix_pb2, utilities_pb2, viewercontroller_pb2

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.registry import load_registry
from osirix_tasks.testing import RunningHost, running_host
from osirix_tasks.testing.browser import CHROMIUM, CHROMIUM_ARGS

EMPTY = utilities_pb2.Empty()

playwright_api = pytest.importorskip("playwright.sync_api")
if shutil.which(CHROMIUM) is None:
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def web_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, str, Path]]:
    """A demo host with its web UI, its own registry (tasks.toml) and the page's URL."""
    home = tmp_path_factory.mktemp("webhome")
    registry = home / "project" / "tasks.toml"
    registry.parent.mkdir()
    registry.write_text("# the web UI's registry\n")
    with running_host(home, "--demo", "--registry", str(registry)) as host:
        match = re.search(r"^Web UI: (\S+)$", "".join(host.output), re.MULTILINE)
        assert match, f"serve printed no web address:\n{''.join(host.output)}"
        yield host, match.group(1), registry


@pytest.fixture(scope="module")
def shots() -> Path:
    """A temporary folder kept after the run (pytest prunes its own), printed so the pictures can be looked at."""
    folder = Path(tempfile.mkdtemp(prefix="osirix-tasks-web-screenshots-"))
    print(f"\nweb UI screenshots: {folder}")
    return folder


@pytest.fixture(scope="module")
def page(web_host: tuple[RunningHost, str, Path]) -> Iterator[Any]:
    _, url, _ = web_host
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Playwright's wait_for_function evaluates strings, which the page's CSP forbids: bypassed here,
        # kept in test_security.py (which checks that the page itself breaks no rule of it)
        context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True, bypass_csp=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", timeout=15000)
        yield page
        browser.close()
        assert not errors, f"JavaScript errors on the page: {errors}"


def show(page: Any, view: str) -> None:
    page.click(f"#tabs a[data-view='{view}']")
    page.wait_for_selector(f"#view-{view}.active")


def choose_menu(page: Any, window: str, entry: str) -> None:
    holder = f".grpc-menu[data-window='{window}']"
    page.click(f"{holder} > button")
    page.click(f"{holder} .item[data-name='{entry}']")


def open_demo_viewer(page: Any) -> None:
    """Open the demo series from the database window (once), then show the 2D viewer."""
    show(page, "database")
    page.wait_for_selector("#db-table tbody tr.series")
    if page.evaluate("window.osirixTasks.viewer.state.viewer === null"):
        page.dblclick("#db-table tbody tr.series")
    else:
        show(page, "viewer")
    page.wait_for_function("window.osirixTasks.viewer.stats.paints > 0")


#: How far neighbouring grey values of the 2D viewer's canvas are apart (mean of the absolute differences
#: down and across), computed in the page: the canvas is megabytes of RGBA.
ROUGHNESS = """() => { const s = document.querySelector('#vw-grid .viewport.active .vp-image');
  const c = document.createElement('canvas'); c.width = s.width; c.height = s.height;
  const x = c.getContext('2d'); x.drawImage(s, 0, 0);
  const d = x.getImageData(0, 0, c.width, c.height).data, w = c.width, h = c.height;
  let down = 0, across = 0;
  for (let y = 0; y < h; y++) for (let i = 0; i < w; i++) {
    const k = 4 * (y * w + i);
    if (y + 1 < h) down += Math.abs(d[k + 4 * w] - d[k]);
    if (i + 1 < w) across += Math.abs(d[k + 4] - d[k]);
  }
  return down / ((h - 1) * w) + across / (h * (w - 1)); }"""


def test_requests_without_the_token_are_refused(web_host: tuple[RunningHost, str, Path]) -> None:
    _, url, _ = web_host
    base, token = url.split("/?token=")

    def status(path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response
        except urllib.error.HTTPError as error:
            return error.code, error

    # the page and its code hold no data; the API needs the token, in its header only (no cookie)
    code, response = status("/")
    assert code == 200 and "set-cookie" not in {k.lower() for k in response.headers}
    assert status("/api/database")[0] == 403
    assert status(f"/api/database?token={token}")[0] == 403
    assert status("/api/database", {"X-Osirix-Tasks-Token": token[:-2] + "xx"})[0] == 403
    assert status("/api/database", {"X-Osirix-Tasks-Token": token})[0] == 200
    # a page of another site whose name resolves to 127.0.0.1 is refused even with the token
    assert status("/api/database", {"X-Osirix-Tasks-Token": token, "Host": "evil.example:80"})[0] == 403


def test_add_and_remove_a_server(page: Any, web_host: tuple[RunningHost, str, Path], shots: Path) -> None:
    host, _, _ = web_host
    configs = host.home / "Library" / "Application Support" / "OsirixGRPC" / "server_configs.json"
    show(page, "servers")
    page.wait_for_selector("#srv-table tbody tr")
    page.click("#srv-add")
    page.fill("#srv-port", "80")
    page.click("#srv-ok")
    page.wait_for_function("document.querySelector('#srv-sheet-status').textContent.includes('1024->65535')")
    page.fill("#srv-port", str(host.ports[0]))
    page.click("#srv-ok")
    page.wait_for_function("document.querySelector('#srv-sheet-status').textContent.length > 0")
    assert [int(s["port"]) for s in json.loads(configs.read_text())] == host.ports  # nothing was written
    port = free_port()
    page.fill("#srv-port", str(port))
    page.click("#srv-ok")
    row = f"#srv-table tbody tr[data-port='{port}']"
    page.wait_for_selector(row)
    assert page.is_visible(f"{row} .light:not(.on)")
    entries = {int(s["port"]): s["active"] for s in json.loads(configs.read_text())}
    assert entries == {host.ports[0]: "YES", port: "NO"}
    page.click(row)
    page.click("#srv-start")
    page.wait_for_selector(f"{row} .light.on")
    assert host.stub(port).OsirixVersion(EMPTY).status.status == 1  # really served now
    page.screenshot(path=str(shots / "server_configuration.png"))
    page.click("#srv-remove")
    page.wait_for_selector(row, state="detached")
    assert [int(s["port"]) for s in json.loads(configs.read_text())] == host.ports
    assert "Removed" in page.inner_text("#srv-status")


def test_add_a_script_shows_the_bad_interpreter_next_to_its_field(
    page: Any, web_host: tuple[RunningHost, str, Path], shots: Path, tmp_path: Path
) -> None:
    _, _, registry = web_host
    script = tmp_path / "measure_it.py"
    script.write_text("print('measured')\n")
    before = registry.read_bytes()
    show(page, "scripts")
    page.wait_for_selector("#sc-table tbody tr")
    page.click("#sc-add")
    page.fill("#sc-form input[name=path]", str(script))
    page.select_option("#sc-form select[name=type]", "ROI")
    page.fill("#sc-form input[name=interpreter]", "/no/such/python3")
    page.click("#sc-form button[type=submit]")
    error = "#sc-form .field-error[data-field='interpreter']"
    page.wait_for_function(f"document.querySelector(\"{error}\").textContent.includes('does not exist')")
    page.screenshot(path=str(shots / "script_management_error.png"))
    assert registry.read_bytes() == before  # nothing written
    page.fill("#sc-form input[name=interpreter]", "")
    page.click("#sc-form button[type=submit]")
    row = "#sc-table tbody tr[data-name='measure_it']"
    page.wait_for_selector(row)
    assert page.inner_text(f"{row} td:nth-child(7)").startswith("tasks.toml:")
    text = registry.read_text()
    assert text.startswith("# the web UI's registry\n") and 'name = "measure_it"' in text and 'type = "ROI"' in text
    page.check(f"{row} input[data-change=blocking]")
    page.wait_for_function("document.querySelector('#sc-status').textContent.startsWith('Changed')")
    assert "blocking = true" in registry.read_text()
    page.fill(f"{row} input[data-change=interpreter]", "/no/such/python3")
    page.press(f"{row} input[data-change=interpreter]", "Enter")
    row_error = f"{row} .field-error[data-field='interpreter']"
    page.wait_for_function(f"document.querySelector(\"{row_error}\").textContent.includes('does not exist')")
    assert "/no/such" not in registry.read_text()
    page.uncheck("#sc-packs input[data-pack='builtin']")
    page.wait_for_selector("#sc-table tbody tr[data-name='Gaussian smooth']", state="detached")
    assert load_registry(registry).settings.disabled_packs == ["builtin"]
    page.check("#sc-packs input[data-pack='builtin']")
    page.wait_for_selector("#sc-table tbody tr[data-name='Gaussian smooth']")
    assert load_registry(registry).settings.disabled_packs == []
    page.screenshot(path=str(shots / "script_management.png"))


def test_select_open_draw_an_roi_and_run_the_roi_task(
    page: Any, web_host: tuple[RunningHost, str, Path], shots: Path
) -> None:
    host, _, _ = web_host
    stub = host.stub()
    show(page, "database")
    page.wait_for_selector("#db-table tbody tr.study")
    page.click("#db-table tbody tr.study")
    page.wait_for_function("document.querySelector('#db-status').textContent.startsWith('selected 1 study')")
    selection = stub.BrowserControllerDatabaseSelection(stub.OsirixCurrentBrowser(EMPTY).browser_controller)
    assert len(selection.studies) == 1 and not selection.series
    page.wait_for_function("[...document.querySelectorAll('canvas.thumb')].every(c => c.width < 100 && c.width > 8)")
    page.screenshot(path=str(shots / "database.png"))
    open_demo_viewer(page)
    viewer = stub.OsirixFrontmostViewer(EMPTY).viewer_controller
    assert page.evaluate("window.osirixTasks.viewer.state.viewer.uid") == viewer.osirixrpc_uid
    # no ROI yet: the ROI task says why instead of running
    runs_before = len(host.cli("runs", "--json").stdout and json.loads(host.cli("runs", "--json").stdout))
    choose_menu(page, "2D viewer", "ROI statistics")
    page.wait_for_function("document.querySelector('#vw-status').textContent.includes('none is selected')")
    assert len(json.loads(host.cli("runs", "--json").stdout)) == runs_before
    # draw an oval with the mouse
    page.click("#vw-tools button[data-tool='OVAL']")
    box = page.locator("#vw-grid .viewport.active").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.35)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.55, steps=5)
    page.mouse.up()
    page.wait_for_selector("#vw-rois tbody tr.selected")
    rois = stub.ViewerControllerSelectedROIs(viewer).rois
    assert len(rois) == 1 and stub.ROIIType(rois[0]).itype == 9
    area = stub.ROIArea(rois[0]).area
    assert page.inner_text("#vw-rois tbody tr td:nth-child(3)") == f"{area:.3f}"
    # the drag spanned 15% x 20% of the viewport, where the image is fitted whole (its physical size,
    # centred): an ellipse of those axes in mm, from the pixel spacing the host gives
    pix = stub.ROIPix(rois[0]).pix
    shape, spacing = stub.DCMPixShape(pix), stub.DCMPixSpacing(pix)
    columns, rows, across, down = shape.columns, shape.rows, spacing.spacing_columns, spacing.spacing_rows
    screen_per_mm = min(box["width"] / (columns * across), box["height"] / (rows * down))
    width_mm, height_mm = 0.15 * box["width"] / screen_per_mm, 0.20 * box["height"] / screen_per_mm
    expected = np.pi * (width_mm / 2) * (height_mm / 2) / 100
    assert area == pytest.approx(expected, rel=0.15)
    choose_menu(page, "2D viewer", "ROI statistics")
    page.wait_for_function(
        "document.querySelector('#dock-output .stdout')?.textContent.includes('area')", timeout=30000
    )
    mean = stub.DCMPixComputeROI(dcmpix_pb2.DCMPixComputeROIRequest(pix=pix, roi=rois[0])).mean
    page.wait_for_function("document.querySelector('#dock-info').textContent.includes('succeeded')", timeout=30000)
    output = page.inner_text("#dock-output .stdout")
    assert f"mean {mean:.4f}" in output and f"area {area:.4f} cm2" in output
    page.screenshot(path=str(shots / "viewer_roi_task.png"))


def test_the_image_task_changes_the_plane_on_screen(
    page: Any, web_host: tuple[RunningHost, str, Path], shots: Path
) -> None:
    open_demo_viewer(page)
    page.evaluate("window.osirixTasks.viewer.setSlice(12)")
    page.wait_for_function("window.osirixTasks.viewer.stats.painted === 12")
    time.sleep(0.4)  # the slice reaches OsiriX (the task smooths the displayed plane)
    before = float(page.evaluate(ROUGHNESS))
    choose_menu(page, "2D viewer", "Gaussian smooth")
    page.wait_for_function(
        "document.querySelector('#dock-info').textContent.startsWith('Gaussian smooth (Image) - succeeded')",
        timeout=30000,
    )
    # the page reads the plane again after the run: smoothing shows (neighbouring pixels got closer)
    try:
        page.wait_for_function(f"({ROUGHNESS})() < 0.8 * {before}", timeout=15000)
    except playwright_api.TimeoutError:
        raise AssertionError(f"the canvas is as rough as before: {page.evaluate(ROUGHNESS)} vs {before}") from None
    assert page.evaluate("window.osirixTasks.viewer.stats.painted") == 12
    page.screenshot(path=str(shots / "viewer_after_image_task.png"))


def test_rois_made_by_a_script_appear_by_themselves(
    page: Any, web_host: tuple[RunningHost, str, Path], shots: Path
) -> None:
    host, _, _ = web_host
    stub = host.stub()
    open_demo_viewer(page)
    viewer = stub.OsirixFrontmostViewer(EMPTY).viewer_controller
    index = page.evaluate("window.osirixTasks.viewer.state.slice")
    listing = viewercontroller_pb2.ViewerControllerROIListRequest(viewer_controller=viewer, movie_idx=0)
    for plane in stub.ViewerControllerROIList(listing).roi_slices:  # earlier tests' ROIs would cover the mask
        for roi in plane.rois:
            stub.ROIDelete(roi)
    request = viewercontroller_pb2.ViewerControllerNewROIRequest
    point, rect = request.Point2D, request.Rect
    shapes = {
        20: {
            "buffer": request.Buffer(rows=20, columns=20, buffer=[1] * 400),
            "buffer_position_x": 10,
            "buffer_position_y": 10,
        },
        13: {"rectangle": rect(origin_x=80, origin_y=20, width=1, height=1)},
        14: {"points": [point(x=60, y=60), point(x=90, y=90)]},
        12: {"points": [point(x=20, y=100), point(x=40, y=80), point(x=60, y=100)]},
        19: {"rectangle": rect(origin_x=100, origin_y=100, width=1, height=1)},
        5: {"points": [point(x=10, y=120), point(x=60, y=120)]},
    }
    for itype, shape in shapes.items():
        answer = stub.ViewerControllerNewROI(
            request(
                viewer_controller=viewer,
                itype=itype,
                idx=index,
                movie_idx=0,
                name=f"script {itype}",
                color=request.Color(r=255, g=0, b=255),
                opacity=1.0,  # OsiriX takes the request's values as given: 0 would be invisible
                thickness=1.0,
                **shape,
            )
        )
        assert answer.status.status == 1, answer.status.message
    # no reload, no run: the viewer notices by itself
    page.wait_for_function(
        "window.osirixTasks.viewer.rois.filter(r => r.name.startsWith('script')).length === 6", timeout=10000
    )
    kinds = page.eval_on_selector_all("#vw-rois tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent)")
    assert {"Brush", "Text", "Arrow", "Angle", "Point", "Length"} <= set(kinds)  # OsiriX's toolbar names
    # a text ROI has no points in OsiriX; the page places it at its rect, which the embedded host tells
    text_at = page.evaluate("window.osirixTasks.viewer.rois.find(r => r.itype === 13).points")
    assert text_at == [[80, 20]]
    # the mask is painted as an overlay in its colour inside its 20x20 square
    inside = page.evaluate(
        """() => { const v = window.osirixTasks.viewer.active, o = v.overlay;
        const r = window.devicePixelRatio || 1, [x, y] = v.toScreen([20, 20]);
        return Array.from(o.getContext('2d').getImageData(x * r, y * r, 1, 1).data); }"""
    )
    assert inside[0] > 200 and inside[1] < 60 and inside[2] > 200 and inside[3] > 60
    page.screenshot(path=str(shots / "viewer_roi_types.png"))


def test_a_3d_window_renders_rotates_and_follows_its_task(
    page: Any, web_host: tuple[RunningHost, str, Path], shots: Path
) -> None:
    host, _, _ = web_host
    stub = host.stub()
    open_demo_viewer(page)
    page.click("#vw-mip")
    page.wait_for_selector("#view-vr.active")
    page.wait_for_function("window.osirixTasks.vr.renders > 0 && window.osirixTasks.vr.renderedMode === 'MIP'")
    vr = stub.OsirixFrontmostVRController(EMPTY).vr_controller
    assert stub.VRControllerRenderingMode(vr).rendering_mode == "MIP"

    # the picture as a 64 x 64 grey thumbnail (whatever its sharpness), read in the page
    picture_js = """() => { const c = document.createElement('canvas'); c.width = c.height = 64;
      const x = c.getContext('2d'); x.drawImage(document.querySelector('#vr-canvas'), 0, 0, 64, 64);
      return Array.from(x.getImageData(0, 0, 64, 64).data); }"""

    def picture() -> np.ndarray:
        return np.asarray(page.evaluate(picture_js), dtype=np.float64).reshape(64, 64, 4)[..., :3]

    front = picture()
    assert front.max() > 100  # the phantom shows
    renders = page.evaluate("window.osirixTasks.vr.renders")
    box = page.locator("#vr-canvas").bounding_box()
    page.mouse.move(box["x"] + 50, box["y"] + 50)
    page.mouse.down()
    page.mouse.move(box["x"] + 170, box["y"] + 60, steps=4)
    page.mouse.up()
    turned = "!document.querySelector('#vr-angles').textContent.includes('azimuth 0')"
    page.wait_for_function(f"window.osirixTasks.vr.renders > {renders} && {turned}")
    time.sleep(0.5)
    after = picture()
    assert np.abs(after - front).mean() > 1  # rotated
    choose_menu(page, "3D viewer", "Toggle VR/MIP")
    page.wait_for_function("window.osirixTasks.vr.renderedMode === 'VR'", timeout=30000)
    assert stub.VRControllerRenderingMode(vr).rendering_mode == "VR"
    assert page.input_value("#vr-mode") == "VR"
    page.screenshot(path=str(shots / "3d_viewer.png"))


def test_task_console_lists_streams_saves_cancels_and_clears(
    page: Any, web_host: tuple[RunningHost, str, Path], shots: Path
) -> None:
    host, _, registry = web_host
    show(page, "console")
    page.wait_for_selector("#con-runs tbody tr")
    history = json.loads(host.cli("runs", "--json").stdout)
    assert page.locator("#con-runs tbody tr").count() == len(history) >= 3
    roi_run = next(r for r in history if r["task_name"] == "ROI statistics")
    page.click(f"#con-runs tbody tr[data-id='{roi_run['id']}']")
    page.wait_for_function("document.querySelector('#con-info').textContent.includes('exit code 0')")
    colours = page.evaluate(
        "getComputedStyle(document.querySelector('#con-output .stdout')).color + '|' + "
        "getComputedStyle(document.querySelector('#con-output')).backgroundColor"
    )
    assert colours == "rgb(95, 245, 95)|rgb(0, 0, 0)"
    page.screenshot(path=str(shots / "task_console.png"))
    with page.expect_download() as download:
        page.click("#con-save")
    saved = Path(download.value.path()).read_text()
    stored = json.loads(host.cli("console", roi_run["id"], "--json").stdout)
    assert "ROI 'Unnamed'" in saved and saved == "".join(chunk["text"] for chunk in stored["output"])
    # a running task: its output shows while it runs (stdout green, stderr red), then it is cancelled
    slow = registry.parent / "slow.py"
    slow.write_text(
        "import sys, time\nprint('tick', flush=True)\nprint('warned', file=sys.stderr, flush=True)\ntime.sleep(60)\n"
    )
    with registry.open("a") as handle:
        handle.write(f'\n[[task]]\nname = "Slow"\ntype = "Database"\nlocation = "{slow}"\n')
    show(page, "database")
    choose_menu(page, "Database window", "Slow")
    show(page, "console")
    page.wait_for_function(
        "document.querySelector('#con-output .stderr')?.textContent.includes('warned')", timeout=20000
    )
    assert "tick" in page.inner_text("#con-output .stdout")
    assert page.evaluate("getComputedStyle(document.querySelector('#con-output .stderr')).color") == "rgb(255, 74, 74)"
    page.click("#con-cancel")
    page.wait_for_function("document.querySelector('#con-info').textContent.includes('cancelled')", timeout=20000)
    slow_run = json.loads(host.cli("runs", "--json").stdout)[0]
    assert slow_run["task_name"] == "Slow" and slow_run["status"] == "cancelled"
    page.click("#con-clear")
    page.wait_for_selector("#con-runs tbody tr", state="detached")
    assert json.loads(host.cli("runs", "--json").stdout) == []
