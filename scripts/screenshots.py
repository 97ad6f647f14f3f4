"""Take the documentation's screenshots from the real page (Chromium via Playwright), never by hand.

Starts an embedded OsiriX on the demo data in a home of its own, with the first tutorial's task
(``my_tasks.py``, read from ``docs/tutorials/first-task.md`` itself) in its registry, then does in
Chromium what the tutorials tell the reader to do and saves each view:

- ``docs/images/page.png``: the 2D viewer on the demo series, with an ROI;
- ``docs/images/menu.png``: the database window's gRPC Tasks menu offering the tutorial's task;
- ``docs/images/console.png``: the Task Console after the reader chose it.

Run it after changing the page: ``.venv/bin/python scripts/screenshots.py [--out FOLDER]``. Needs
Debian's Chromium at /usr/bin/chromium. Exits non-zero, naming the step, when the page does not do
what the tutorial says.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from osirix_tasks.testing import isolated_env, running_host

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorials" / "first-task.md"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
#: How long the page may take for one step (ms); the machine may be busy.
STEP_MS = 30_000
TASK_NAME = "Series summary"


def tutorial_file(name: str) -> str:
    """The ``python title="NAME"`` block of the first tutorial: the file the reader writes."""
    found = re.search(rf'```python title="{re.escape(name)}"\n(.*?)```', TUTORIAL.read_text(), re.DOTALL)
    if found is None:
        raise SystemExit(f"{TUTORIAL}: no block titled {name!r} - the screenshots follow that tutorial")
    return found.group(1)


def cli(home: Path, port: int, *args: str) -> str:
    """Run ``osirix-tasks ARGS --server PORT`` as the reader would, in the screenshot's home."""
    done = subprocess.run(
        [sys.executable, "-m", "osirix_tasks", *args, "--server", str(port)],
        env=isolated_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"osirix-tasks {' '.join(args)} failed:\n{done.stderr or done.stdout}")
    return done.stdout


@contextmanager
def demo_page(folder: Path) -> Iterator[tuple[str, Path, int]]:
    """A host on the demo data whose registry offers the tutorial's task: (page address, home, port)."""
    home = folder / "home"
    project = folder / "project"
    project.mkdir(parents=True)
    (project / "my_tasks.py").write_text(tutorial_file("my_tasks.py"))
    registry = project / "tasks.toml"
    registry.write_text('[settings]\nmodules = ["my_tasks"]\n')
    with running_host(home, "--demo", "--registry", str(registry)) as host:
        match = re.search(r"^Web UI: (\S+)$", "".join(host.output), re.MULTILINE)
        if match is None:
            raise SystemExit("serve printed no page address:\n" + "".join(host.output))
        yield match.group(1), home, host.ports[0]


def wait_for_viewer(port: int) -> None:
    """Wait until OsiriX has the 2D viewer the page asked for (its answer may come after the page draws)."""
    from osirixgrpc import utilities_pb2

    from osirix_tasks.client import Connection

    with Connection(f"127.0.0.1:{port}") as osirix:
        for _ in range(60):
            if osirix.stub.OsirixFrontmostViewer(utilities_pb2.Empty()).status.status == 1:
                return
            time.sleep(0.5)
    raise SystemExit("the page opened no 2D viewer in OsiriX within 30 s")


def show(page: Any, view: str) -> None:
    """Click a window's tab, as the reader does."""
    page.click(f"#tabs a[data-view='{view}']")
    page.wait_for_selector(f"#view-{view}.active", timeout=STEP_MS)


def take(page: Any, out: Path, name: str) -> None:
    """Save the page as ``out/NAME.png`` and say so."""
    path = out / f"{name}.png"
    page.screenshot(path=str(path))
    print(f"wrote {path}")


def database_menu(page: Any, out: Path) -> None:
    """The database window, the demo study selected, its gRPC Tasks menu open on the tutorial's task."""
    show(page, "database")
    page.wait_for_selector("#db-table tbody tr.study", timeout=STEP_MS)
    page.click("#db-table tbody tr.study")
    holder = ".grpc-menu[data-window='Database window']"
    page.click(f"{holder} > button")
    page.wait_for_selector(f"{holder} .item[data-name='{TASK_NAME}']", timeout=STEP_MS)
    take(page, out, "menu")
    page.click(f"{holder} .item[data-name='{TASK_NAME}']")


def console(page: Any, out: Path) -> None:
    """The Task Console once the run the menu started has printed its output and ended."""
    show(page, "console")
    page.wait_for_function(
        "document.querySelector('#con-output')?.textContent.includes('images')"
        " && document.querySelector('#con-info')?.textContent.includes('exit code 0')",
        timeout=STEP_MS,
    )
    take(page, out, "console")


def viewer(page: Any, out: Path, home: Path, port: int) -> None:
    """The 2D viewer on the demo series (opened by double-clicking it), scrolled with the mouse wheel to
    image 13, where ``osirix-tasks roi add`` drew an ROI around the brightest sphere."""
    show(page, "database")
    page.wait_for_selector("#db-table tbody tr.series", timeout=STEP_MS)
    page.dblclick("#db-table tbody tr.series")
    page.wait_for_selector("#view-viewer.active", timeout=STEP_MS)
    page.wait_for_function("window.osirixTasks?.viewer?.stats?.paints > 0", timeout=STEP_MS)
    wait_for_viewer(port)
    # Image 13 as OsiriX numbers images (from 1), the one twelve wheel steps down from image 1.
    oval = ["--type", "oval", "--box", "22", "46", "36", "36", "--name", "lesion", "--slice", "13"]
    cli(home, port, "roi", "add", *oval)
    box = page.locator("#view-viewer canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(12):
        page.mouse.wheel(0, 120)
        page.wait_for_timeout(150)
    page.wait_for_function(  # the image with the ROI is shown, its ROI listed (else the picture would lie)
        "[...document.querySelectorAll('#vw-rois tbody tr')].some(r => r.textContent.includes('lesion'))",
        timeout=STEP_MS,
    )
    page.wait_for_timeout(1000)  # the ROI drawn on the canvas
    take(page, out, "page")


def main(argv: list[str] | None = None) -> int:
    """Take every screenshot into ``--out`` (default: docs/images)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="folder for the PNG files")
    options = parser.parse_args(argv)
    if shutil.which(CHROMIUM) is None:
        raise SystemExit(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    options.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="osirix-tasks-screenshots-") as folder, demo_page(Path(folder)) as found:
        address, home, port = found
        series = cli(home, port, "db", "series", "--json")
        series_uid = re.search(r'"series_instance_uid": "([^"]+)"', series)
        if series_uid is None:
            raise SystemExit(f"no series in the demo database:\n{series}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_context(
                    viewport=VIEWPORT, bypass_csp=True
                ).new_page()  # lets Playwright wait on expressions
                errors: list[str] = []
                page.on("pageerror", lambda error: errors.append(str(error)))
                page.goto(address)
                page.wait_for_selector("body[data-ready='1']", timeout=STEP_MS)
                database_menu(page, options.out)
                console(page, options.out)
                viewer(page, options.out, home, port)
            finally:
                browser.close()
        if errors:
            raise SystemExit(f"JavaScript errors on the page: {errors}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
