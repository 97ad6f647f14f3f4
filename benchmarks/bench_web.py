"""The web UI's speed where the user waits: page load and scrolling a large series.

A 300-plane 512x512 MR series is imported into a real host (``osirix-tasks serve``); headless
Chromium (Debian's, driven by Playwright) opens the page and the series, then:

(a) page interactive: from navigation start to the page's ready flag (database listed, menus
    wired); baseline: loading one small static file from the same server. Goal: <= 1 s.
(b) scrolling, cold (nothing cached): each plane requested, windowed and painted before the next
    is asked for, 300 planes; and a wheel scroll at 60 events/s, counting planes painted per
    second. Goal: >= 30 planes/s.
(c) scrolling again, warm (planes cached in the page).
Baselines from the same run: our Python client fetching the same 300 planes one by one over
OsiriXgrpc (the floor the page's server goes through), and the page fetching them from the web
server without painting.

    python benchmarks/bench_web.py [--planes 300] [--size 512]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from osirixgrpc import types_pb2, utilities_pb2, viewercontroller_pb2
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

from osirix_tasks.client import Connection
from osirix_tasks.testing import running_host
from osirix_tasks.testing.browser import CHROMIUM
from osirix_tasks.testing.browser import CHROMIUM_ARGS as ARGS


def write_series(folder: Path, planes: int, size: int) -> None:
    """A series of ``planes`` axial ``size`` x ``size`` MR images (uint16, varying per plane)."""
    folder.mkdir(parents=True)
    study, series = generate_uid(), generate_uid()
    base = np.random.default_rng(7).integers(0, 4000, size=(size, size), dtype=np.uint16)
    for index in range(planes):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{index}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.PatientName, ds.SeriesDescription = "MR", "Bench^Web", f"bench {planes}"
        ds.InstanceNumber = index + 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, float(index)], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.Rows, ds.Columns = [0.5, 0.5], size, size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.PixelData = np.roll(base, index * 3, axis=0).tobytes()
        pydicom.dcmwrite(ds.filename, ds, enforce_file_format=True)


SCROLL = """async (count) => {
  const v = window.osirixTasks.viewer;
  const tick = () => new Promise((r) => setTimeout(r, 0));
  const start = performance.now();
  for (let i = 1; i < count; i++) { v.setSlice(i); while (v.stats.painted !== i) await tick(); }
  const forward = performance.now() - start;
  return forward;
}"""

WHEEL = """async (count) => {
  const v = window.osirixTasks.viewer;
  const stage = document.querySelector('#vw-stage');
  const paints = v.stats.paints, start = performance.now();
  for (let i = 1; i < count; i++) {
    stage.dispatchEvent(new WheelEvent('wheel', { deltaY: -1, bubbles: true, cancelable: true }));
    await new Promise((r) => setTimeout(r, 1000 / 60));
  }
  while (v.stats.painted !== 0) await new Promise((r) => setTimeout(r, 1));
  return [v.stats.paints - paints, performance.now() - start];
}"""

FETCH_ONLY = """async (uids) => {
  const start = performance.now();
  const headers = { "X-Osirix-Tasks-Token": sessionStorage.getItem("osirix-tasks-token") };
  for (const uid of uids) { const r = await fetch('/api/pix/' + uid, { headers }); await r.arrayBuffer(); }
  return performance.now() - start;
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--planes", type=int, default=300)
    parser.add_argument("--size", type=int, default=512)
    options = parser.parse_args()
    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    write_series(work / "series", options.planes, options.size)
    with running_host(work / "home", "--empty", "--import", str(work / "series")) as host:
        url = re.search(r"^Web UI: (\S+)$", "".join(host.output), re.MULTILINE).group(1)  # type: ignore[union-attr]
        base = url.split("/?")[0]
        # baseline 1: our client, plane by plane over OsiriXgrpc
        with Connection(host.address) as connection:
            stub = connection.stub
            browser = stub.OsirixCurrentBrowser(utilities_pb2.Empty()).browser_controller
            study = stub.BrowserControllerDatabaseStudies(browser).studies[0]
            series = stub.DicomStudySeries(study).series[0]
            images = stub.DicomSeriesSortedImages(series).sorted_images
            from osirixgrpc import browsercontroller_pb2

            request = browsercontroller_pb2.BrowserControllerOpenViewerFromImagesRequest
            viewer = stub.BrowserControllerOpenViewerFromImages(
                request(browser=browser, frames=[request.FrameImages(images=images)])
            ).viewer
            pix = stub.ViewerControllerPixList(
                viewercontroller_pb2.ViewerControllerPixListRequest(viewer_controller=viewer, movie_idx=0)
            ).pix
            start = time.perf_counter()
            for p in pix:
                connection.pixels(p)
            grpc_seconds = time.perf_counter() - start
            stub.ViewerControllerCloseViewer(types_pb2.ViewerController(osirixrpc_uid=viewer.osirixrpc_uid))
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            # bypass_csp: Playwright's wait_for_function evaluates strings, which the page's policy forbids
            page = chromium.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
            page.goto(url)  # the tab keeps the token; the measured loads below are repeat visits, as a reload
            page.wait_for_selector("body[data-ready='1']")
            ready = []
            static = []
            for _ in range(5):
                page.goto(base + "/static/bus.js")
                static.append(page.evaluate("performance.getEntriesByType('navigation')[0].responseEnd"))
                page.goto(base + "/#database")
                page.wait_for_selector("body[data-ready='1']")
                try:
                    page.wait_for_selector("#db-table tbody tr.series", timeout=10000)
                except Exception:
                    print("database status:", page.inner_text("#db-status"), page.url)
                    raise
                ready.append(page.evaluate("performance.now()"))
            page.dblclick("#db-table tbody tr.series")
            page.wait_for_function(
                "window.osirixTasks.viewer.stats.paints > 0 && window.osirixTasks.viewer.stats.painted === 0"
            )
            uids = page.evaluate("window.osirixTasks.viewer.state.viewer.pix[0]")
            fetch_ms = page.evaluate(FETCH_ONLY, uids)
            page.evaluate("window.osirixTasks.viewer.cache.clear()")
            cold_ms = page.evaluate(SCROLL, options.planes)
            warm_ms = page.evaluate(
                "async (n) => { const v = window.osirixTasks.viewer; v.setSlice(0); "
                "while (v.stats.painted !== 0) await new Promise(r => setTimeout(r, 0)); "
                f"return ({SCROLL})(n); }}",
                options.planes,
            )
            page.evaluate("window.osirixTasks.viewer.cache.clear()")
            painted, wheel_ms = page.evaluate(WHEEL, options.planes)
            chromium.close()
    planes = options.planes
    shown = planes - 1
    mb = planes * options.size * options.size * 4 / 1e6
    print(f"series: {planes} planes of {options.size}x{options.size} float32 ({mb:.0f} MB)")
    print(
        f"page interactive (database listed), repeat visit: median {np.median(ready):.0f} ms "
        f"(min {min(ready):.0f}, max {max(ready):.0f}); goal <= 1000 ms"
    )
    print(f"  baseline: one small static file from the same server: median {np.median(static):.0f} ms")
    print(
        f"scroll, cold, each plane fetched+windowed+painted before the next: {shown / cold_ms * 1000:.1f} planes/s "
        f"({cold_ms:.0f} ms for {shown}); goal >= 30"
    )
    print(
        f"scroll, wheel at 60 events/s, cold: {painted / wheel_ms * 1000:.1f} planes painted/s "
        f"({painted} of {shown} wheel steps painted in {wheel_ms:.0f} ms)"
    )
    print(f"scroll, warm (planes cached in the page): {shown / warm_ms * 1000:.1f} planes/s")
    print(f"  baseline: our Python client, plane by plane over OsiriXgrpc: {planes / grpc_seconds:.1f} planes/s")
    print(f"  baseline: page fetching the planes, no painting: {planes / fetch_ms * 1000:.1f} planes/s")


if __name__ == "__main__":
    main()
