"""The Batch view in real headless Chromium against a real host: progress, items, an item's output, cancel."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from osirix_tasks.testing import RunningHost, running_host
from osirix_tasks.testing.browser import CHROMIUM, CHROMIUM_ARGS

playwright_api = pytest.importorskip("playwright.sync_api")
if shutil.which(CHROMIUM) is None:
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def web_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningHost, str]]:
    home = tmp_path_factory.mktemp("batchweb")
    with running_host(home, "--demo") as host:
        match = re.search(r"^Web UI: (\S+)$", "".join(host.output), re.MULTILINE)
        assert match, "".join(host.output)
        yield host, match.group(1)


@pytest.fixture(scope="module")
def page(web_host: tuple[RunningHost, str]) -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Playwright's wait_for_function evaluates strings, which the page's CSP forbids: bypassed here.
        page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(web_host[1])
        page.wait_for_selector("body[data-ready='1']", timeout=60000)
        yield page
        browser.close()
        assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.mark.slow
def test_a_finished_batch_shows_its_progress_items_and_an_items_output(
    web_host: tuple[RunningHost, str], page: Any
) -> None:
    host, _ = web_host
    result = host.cli(
        "batch", "Selection report", "--where", "modality=MR", "--server", host.address, "--workers", "1", "--quiet"
    )
    assert result.returncode == 0, result.stderr
    state = json.loads(host.cli("batch", "show", "--json").stdout)
    page.click("#tabs a[data-view='batch']")
    page.wait_for_selector(
        f"#bt-list tbody tr[data-id='{state['batch']['id']}'][data-status='succeeded']", timeout=60000
    )
    page.wait_for_function("document.querySelector('#bt-progress').value === 1", timeout=60000)  # drawn after the list
    assert page.eval_on_selector("#bt-progress", "p => [p.value, p.max]") == [1, 1]
    page.click("#bt-items tbody tr[data-index='0']")
    page.wait_for_function("document.querySelector('#bt-output').textContent.includes('Series:')", timeout=60000)
    assert "'t1 axial demo' (MR), 24 images" in page.text_content("#bt-output")


def test_cancel_asks_the_running_batchs_driver_to_stop(web_host: tuple[RunningHost, str], page: Any) -> None:
    from osirix_tasks.batch.records import BatchRecords
    from osirix_tasks.contract import Target
    from osirix_tasks.run.store import RunStore

    host, _ = web_host
    store = next(host.home.rglob("runs.sqlite"), None) or host.home / ".local/share/osirix-tasks/runs.sqlite"
    records = BatchRecords(RunStore(store))  # a batch whose driver (this test process) is alive
    batch_id = records.create(
        spec={"name": "Selection report", "type": "Database"},
        registry="tasks.toml",
        server=host.address,
        options={},
        selection="test",
        targets=[(Target(study="1.2"), {})],
    )
    assert records.get(batch_id).driver_pid == os.getpid()
    page.click("#tabs a[data-view='batch']")
    page.click(f"#bt-list tbody tr[data-id='{batch_id}']")
    page.wait_for_selector("#bt-cancel:not([disabled])", timeout=60000)
    page.click("#bt-cancel")
    page.wait_for_function("document.querySelector('#bt-info').textContent.includes('cancel asked')", timeout=60000)
    assert records.cancel_requested(batch_id)
    records.finish(batch_id, "cancelled")
    records.store.close()
