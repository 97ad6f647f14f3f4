"""Fixtures of the web page's security and limits tests: a real host with its page, Chromium, raw HTTP."""

from __future__ import annotations

import http.client
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from osirix_tasks.testing import RunningHost, running_host
from osirix_tasks.testing.browser import CHROMIUM, CHROMIUM_ARGS


@dataclass
class Page:
    """A host's web page: its address (``http://127.0.0.1:PORT``), token and registry."""

    host: RunningHost
    base: str
    token: str
    registry: Path

    @property
    def port(self) -> int:
        """The page's port."""
        return int(self.base.rsplit(":", 1)[1])

    @property
    def url(self) -> str:
        """The address ``serve`` printed (with the token)."""
        return f"{self.base}/?token={self.token}"

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One raw HTTP request (nothing added but what ``headers`` says): status, headers, body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def api(self, method: str, path: str, body: bytes | None = None, **headers: str) -> tuple[int, bytes]:
        """A request as our own page makes it: the token header, and for writes its Origin and JSON."""
        sent = {"X-Osirix-Tasks-Token": self.token}
        if method not in ("GET", "HEAD"):
            sent |= {"Origin": self.base, "Content-Type": "application/json"}
        sent |= {k.replace("_", "-"): v for k, v in headers.items()}
        status, _, data = self.request(method, path, body, sent)
        return status, data


def page_of(host: RunningHost, registry: Path) -> Page:
    """The page a host serves, from the address it printed."""
    match = re.search(r"^Web UI: (http://127\.0\.0\.1:\d+)/\?token=(\S+)$", "".join(host.output), re.MULTILINE)
    assert match, f"serve printed no web address:\n{''.join(host.output)}"
    return Page(host, match.group(1), match.group(2), registry)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    """A demo host with its page and its own registry, shared by one module."""
    home = tmp_path_factory.mktemp("webhome")
    registry = home / "project" / "tasks.toml"
    registry.parent.mkdir()
    registry.write_text("# the page's registry\n")
    with running_host(home, "--demo", "--registry", str(registry)) as host:
        yield page_of(host, registry)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium, driven by Playwright, shared by one module."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def policed_tab(browser: Any, web: Page) -> Iterator[tuple[Any, list[str]]]:
    """A tab on the page under its own Content Security Policy (not bypassed), ready, and the
    policy's violations as Chromium reports them."""
    context = browser.new_context()
    try:
        tab = context.new_page()
        violations: list[str] = []
        tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        tab.goto(web.url)
        tab.wait_for_selector("body[data-ready='1']", timeout=60000)
        yield tab, violations
    finally:
        context.close()


@dataclass
class OtherSite:
    """A web server on another 127.0.0.1 port serving one page; it records every request it receives."""

    port: int
    html: str
    requests: list[dict[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Its page's address."""
        return f"http://127.0.0.1:{self.port}/"


@pytest.fixture
def other_site() -> Iterator[OtherSite]:
    """An attacker's page on another port of 127.0.0.1 (set ``html`` before a browser opens it)."""
    site = OtherSite(0, "<!doctype html><title>other</title>")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            site.requests.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            body = site.html.encode() if self.path in ("/", "/index.html") else b""
            self.send_response(200 if body else 204)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()
    thread.join(5)
