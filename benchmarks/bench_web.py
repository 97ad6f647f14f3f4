"""The 2D viewer's speed where the user waits, today's page against the page it replaced, same run.

Two CT series are generated (``--planes`` slices each, 512x512 and 1024x1024, int16). Two hosts
import them: one serves today's page, the other the page of ``--baseline`` (commit fe377e6, the last
one-viewport page; see ``page_at.py``: the same server, only the page differs). Headless Chromium
(Debian's, WebGL2 through SwiftShader: no GPU here) measures on each page:

(a) page interactive: navigation start to the database listed (repeat visits, median of 5).
    Goal: < 1000 ms.
(b) WL/WW drag: a real press on the image, then one pointer move per animation frame for 2 s;
    frames/s is animation frames completed per second (each one repaints with a new window).
(c) scroll, cold (nothing cached) and warm: each plane asked for, windowed and painted before the
    next; planes/s.
Each with one viewport and, on a page with layouts (today's, and main's since issue 23), four (2x2,
the series in each, synchronised scrolling: a step is done when all four have painted it; the drag
windows one of them). The page of fe377e6 has one viewport only; ``--baseline main`` compares with
main's page. Ratios are today's page over the old one, measured in the same run: both hosts run at
once and ``--rounds`` rounds measure the two pages in turn (the first page alternates), each figure the
median of its rounds (on a shared machine one pass of a row can be half or twice another).

    python benchmarks/bench_web.py [--planes 60] [--baseline fe377e6] [--rounds 3] [--each] [--renderer auto]

With ``auto`` each page draws as it chooses (today's: the 2D canvas under SwiftShader; main's: WebGL2).
A WebGL2 draw returns before the GPU (here SwiftShader, in another process) has run it, so a page
drawing with WebGL2 scrolls cached planes "faster" than one that windows them in JavaScript; compare
like with like with ``--renderer canvas`` or ``--renderer webgl2``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from osirix_tasks.host.spawn import spawn_host
from osirix_tasks.testing import RunningHost
from osirix_tasks.testing.browser import CHROMIUM, CHROMIUM_WEBGL_ARGS
from osirix_tasks.testing.environment import isolated_env

try:
    from page_at import package_with_page  # run as a script: benchmarks/ is on sys.path
except ImportError:  # imported as benchmarks.bench_web
    from benchmarks.page_at import package_with_page

ARGS = CHROMIUM_WEBGL_ARGS
SIZES = (512, 1024)


def write_series(folder: Path, planes: int, size: int) -> None:
    """An axial CT series: ``planes`` int16 slices of ``size`` x ``size`` (a body-like ellipse, varying)."""
    folder.mkdir(parents=True)
    study, series = generate_uid(), generate_uid()
    y, x = np.mgrid[0:size, 0:size] / size - 0.5
    rng = np.random.default_rng(size)
    for index in range(planes):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{index}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.PatientName, ds.PatientID = "CT", f"Bench^{size}", f"B{size}"
        ds.SeriesDescription, ds.StudyDescription = f"ct {size}", f"bench {size}"
        ds.InstanceNumber, ds.SliceThickness = index + 1, 1.0
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, float(-index)], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.Rows, ds.Columns = [0.7, 0.7], size, size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope, ds.WindowCenter, ds.WindowWidth = 0, 1, 40, 400
        body = (x / 0.4) ** 2 + (y / (0.3 + 0.05 * np.sin(index / 9))) ** 2 < 1
        pixels = np.where(body, 40, -1000) + rng.integers(-30, 30, size=(size, size))
        ds.PixelData = pixels.astype(np.int16).tobytes()
        pydicom.dcmwrite(ds.filename, ds, enforce_file_format=True)


@contextmanager
def host_with_page(home: Path, data: Path, package: Path | None) -> Iterator[tuple[RunningHost, str]]:
    """A host importing ``data``; its page is today's, or the one in ``package`` (page_at.py)."""
    from osirix_tasks.client.server_configs import free_port

    port = free_port()
    home.mkdir(parents=True)
    extra = {"PYTHONPATH": str(package)} if package else {}
    args = ["--database", str(home / "db"), "--empty", "--import", str(data), "--port", str(port)]
    here = os.getcwd()
    os.chdir(package or here)  # `python -m` puts the working folder first: the copy's, or ours
    try:
        spawned = spawn_host(args, env=isolated_env(home, **extra), log_path=home / "serve.log", detach=False)
    finally:
        os.chdir(here)
    try:
        running = RunningHost(spawned, [port], home, home / "db")
        url = re.search(r"^Web UI: (\S+)$", "".join(running.output), re.MULTILINE)
        assert url, "".join(running.output)
        yield running, url.group(1)
    finally:
        spawned.stop()


SCROLL = """async ([count, all]) => {
  const v = window.osirixTasks.viewer, tick = () => new Promise((r) => setTimeout(r, 0));
  const done = (i) => all ? v.viewports.every((p) => p.stats.painted === i) : v.stats.painted === i;
  v.setSlice(0); while (!done(0)) await tick();
  const start = performance.now();
  for (let i = 1; i < count; i++) { v.setSlice(i); while (!done(i)) await tick(); }
  return performance.now() - start;
}"""

DRAG = """async ([x, y, seconds]) => {
  let frames = 0; const start = performance.now();
  await new Promise((resolve) => {
    const step = () => {
      const t = performance.now() - start;
      if (t > seconds * 1000) { resolve(); return; }
      frames++;
      const move = { clientX: x + (frames % 200), clientY: y + (frames % 150), bubbles: true };
      window.dispatchEvent(new PointerEvent('pointermove', move));
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
  return frames / ((performance.now() - start) / 1000);
}"""


VISITS = itertools.count()


def interactive_ms(page: Any, base: str) -> float:  # base: the page's address, with its query so far
    """Median of 5 repeat visits: navigation start to the database listed. Each visit is a new document
    (an address differing only in its #fragment would not load the page again)."""
    times = []
    for _ in range(5):
        page.goto(f"{base}visit={next(VISITS)}#database")
        page.wait_for_selector("#db-table tbody tr.series", timeout=20000)
        times.append(page.evaluate("performance.now()"))
    return float(np.median(times))


def open_series(page: Any, size: int) -> None:
    page.click("#tabs a[data-view='database']")
    before = page.evaluate("window.osirixTasks.viewer.state.viewer?.uid ?? null")
    page.locator("#db-table tbody tr.series", has_text=f"ct {size}").first.dblclick()
    page.wait_for_function(
        "(b) => { const v = window.osirixTasks.viewer; return v.state.viewer && v.state.viewer.uid !== b "
        "&& v.stats.painted >= 0; }",
        arg=before,
        timeout=60000,
    )


def drag_fps(page: Any, selector: str) -> float:
    box = page.locator(selector).first.bounding_box()
    x, y = box["x"] + box["width"] / 3, box["y"] + box["height"] / 3
    page.mouse.move(x, y)
    page.mouse.down()
    try:
        return float(page.evaluate(DRAG, [x, y, 2.0]))
    finally:
        page.mouse.up()


def scroll_rates(page: Any, planes: int, all_viewports: bool) -> tuple[float, float]:
    """Planes/s scrolling cold (cache emptied) and warm."""
    page.evaluate("window.osirixTasks.viewer.cache.clear()")
    cold = page.evaluate(SCROLL, [planes, all_viewports])
    warm = page.evaluate(SCROLL, [planes, all_viewports])
    return (planes - 1) / cold * 1000, (planes - 1) / warm * 1000


def four_viewports(page: Any, size: int) -> None:
    """A page with layouts: 2x2, the series in each viewport (a viewer each), synchronised scrolling."""
    series = page.evaluate(
        "async (d) => (await (await fetch('/api/database', {headers: {'X-Osirix-Tasks-Token': "
        "sessionStorage.getItem('osirix-tasks-token')}})).json()).studies.flatMap(s => s.series)"
        ".find(r => r.description === d).uid",
        f"ct {size}",
    )
    page.click("#tabs a[data-view='viewer']")
    page.evaluate("window.osirixTasks.viewer.setLayout('2x2')")
    for index in range(4):
        uid = page.evaluate(
            "async (s) => (await (await fetch('/api/series/' + s + '/open', {method: 'POST', headers: "
            "{'X-Osirix-Tasks-Token': sessionStorage.getItem('osirix-tasks-token'), 'Content-Type': "
            "'application/json'}, body: '{}'})).json()).viewer",
            series,
        )
        page.evaluate("([i, uid]) => window.osirixTasks.viewer.openViewer(i, uid)", [index, uid])
    page.wait_for_function("window.osirixTasks.viewer.viewports.every(v => v.stats.painted >= 0)", timeout=60000)
    page.evaluate("window.osirixTasks.viewer.activate(0); window.osirixTasks.viewer.setSync(true)")


def measure(page: Any, base: str, planes: int) -> dict[str, float]:
    """One round of a page; four viewports too where the page has layouts (main's page since issue 23)."""
    results = {"interactive": interactive_ms(page, base)}
    layouts = page.evaluate("typeof window.osirixTasks.viewer.setLayout === 'function'")
    stage = "#vw-grid .viewport" if layouts else "#vw-stage"
    for size in SIZES:
        open_series(page, size)
        results[f"drag {size} 1"] = drag_fps(page, stage)
        results[f"cold {size} 1"], results[f"warm {size} 1"] = scroll_rates(page, planes, False)
        if layouts:
            four_viewports(page, size)
            results[f"drag {size} 4"] = drag_fps(page, "#vw-grid .viewport")
            results[f"cold {size} 4"], results[f"warm {size} 4"] = scroll_rates(page, planes, True)
            page.evaluate("window.osirixTasks.viewer.setSync(false); window.osirixTasks.viewer.setLayout('1x1')")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--planes", type=int, default=60)
    parser.add_argument("--baseline", default="fe377e6", help="commit of the page to compare with")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of both pages; figures are their medians")
    parser.add_argument("--each", action="store_true", help="also print every round's figures")
    parser.add_argument(
        "--renderer",
        choices=["auto", "webgl2", "canvas"],
        default="auto",
        help="the renderer both pages are asked for (?renderer=); auto: each page's own choice",
    )
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    for size in SIZES:
        write_series(work / "data" / f"ct{size}", options.planes, size)
    old_package = package_with_page(options.baseline, work / "old-page")
    rounds: dict[str, list[dict[str, float]]] = {"today": [], "old": []}
    with sync_playwright() as playwright, ExitStack() as stack:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        stack.callback(chromium.close)
        pages = {}
        for name, package in (("today", None), ("old", old_package)):
            _, url = stack.enter_context(host_with_page(work / f"home-{name}", work / "data", package))
            # bypass_csp: Playwright's wait_for_function evaluates strings, which today's page forbids
            page = chromium.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)
            stack.callback(page.close)
            query = "" if options.renderer == "auto" else f"renderer={options.renderer}&"
            page.goto(url.replace("/?", f"/?{query}", 1))  # the tab keeps the token; measured loads are repeat visits
            page.wait_for_selector("body[data-ready='1']", timeout=30000)
            pages[name] = (page, f"{url.split('/?')[0]}/?{query}")
        for number in range(options.rounds):
            for name in ("today", "old") if number % 2 == 0 else ("old", "today"):
                page, base = pages[name]
                rounds[name].append(measure(page, base, options.planes))
    results = {
        name: {key: float(np.median([r[key] for r in runs])) for key in runs[0]} for name, runs in rounds.items()
    }
    report(results, options.planes, options.baseline, options.rounds)
    if options.each:
        for key in rounds["today"][0]:
            shown = {name: " ".join(f"{r[key]:.1f}" for r in runs if key in r) for name, runs in rounds.items()}
            print(f"{key:14} today {shown['today']:30} {options.baseline} {shown['old']}")


def report(results: dict[str, dict[str, float]], planes: int, baseline: str, rounds: int) -> None:
    today, old = results["today"], results["old"]
    sizes = " and ".join(f"{s}x{s}" for s in SIZES)
    print(f"series: {planes} CT planes each of {sizes} (int16); medians of {rounds} rounds")
    print(f"{'':34} {'today':>9} {baseline:>9} {'ratio':>7}")
    print(f"{'page interactive, ms (goal < 1000)':34} {today['interactive']:9.0f} {old['interactive']:9.0f}")
    names = {"drag": "WL/WW drag, frames/s", "cold": "scroll cold, planes/s", "warm": "scroll warm, planes/s"}
    for size in SIZES:
        for kind, label in names.items():
            for viewports in (1, 4):
                key = f"{kind} {size} {viewports}"
                new = today[key]
                before = old.get(key)
                ratio = f"{new / before:7.2f}" if before else "    n/a"
                shown = f"{before:9.1f}" if before else "  (1 vp)"
                print(f"{label + f' {size}, {viewports} vp':34} {new:9.1f} {shown:>9} {ratio}")


if __name__ == "__main__":
    main()
