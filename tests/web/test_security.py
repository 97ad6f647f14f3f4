"""The page on a shared machine: a page of another site (another 127.0.0.1 port) can neither write nor
read, the token never travels in a cookie or on a command line, and the page refuses to be framed.

Against a real host (its own process) and Debian's Chromium; the attacker is a real web server on
another port of 127.0.0.1 whose page the same browser opens after the user's own page.
"""

from __future__ import annotations

import json
import socket
import stat
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from osirix_tasks.testing import running_host
from osirix_tasks.testing.environment import run_cli
from osirix_tasks.web.streams import MAX_STREAMS

from .conftest import OtherSite, Page, page_of, policed_tab


def _runs(page: Page) -> list[dict[str, Any]]:
    return list(json.loads(page.host.cli("runs", "--json").stdout))


def _open_page(browser: Any, page: Page) -> tuple[Any, Any]:
    """A fresh browser context with the user's page opened from the address ``serve`` printed."""
    context = browser.new_context()
    tab = context.new_page()
    tab.goto(page.url)
    tab.wait_for_selector("body[data-ready='1']", timeout=20000)
    return context, tab


ATTACK = """<!doctype html><title>attacker</title><script>
(async () => {
  const send = (path, body) => fetch("%(base)s" + path, {
    method: "POST", mode: "no-cors", credentials: "include",
    headers: {"Content-Type": "text/plain"}, body: JSON.stringify(body)}).catch(() => null);
  await send("/api/scripts", {path: %(script)s, type: "Database", name: "Evil"});
  await send("/api/menus/run", {name: "Evil", type: "Database"});
  await send("/api/menus/run", {name: "Hello database", type: "Database"});
  document.title = "done";
})();
</script>"""


def test_a_page_on_another_port_can_neither_add_a_script_nor_run_one(
    web: Page, browser: Any, other_site: OtherSite, tmp_path: Path
) -> None:
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.py"
    evil.write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    other_site.html = ATTACK % {"base": web.base, "script": json.dumps(str(evil))}
    registry_before, runs_before = web.registry.read_bytes(), _runs(web)
    context, _ = _open_page(browser, web)  # the user visited the page with its token
    try:
        attacker = context.new_page()
        attacker.goto(other_site.url)
        attacker.wait_for_function("document.title === 'done'", timeout=20000)
        time.sleep(2)  # a run the attack started would have written its marker by now
    finally:
        context.close()
    assert web.registry.read_bytes() == registry_before
    assert not marker.exists()
    assert _runs(web) == runs_before


def test_no_cookie_carries_the_token_to_other_ports(web: Page, browser: Any, other_site: OtherSite) -> None:
    context, tab = _open_page(browser, web)
    try:
        assert web.token not in json.dumps(context.cookies())
        assert "token" not in tab.url  # taken out of the address bar, kept in the tab's session storage
        assert tab.evaluate("sessionStorage.getItem('osirix-tasks-token')") == web.token
        other = context.new_page()
        other.goto(other_site.url)
        other.wait_for_load_state()
        assert other_site.requests and web.token not in json.dumps(other_site.requests)
        tab.reload()  # the tab keeps working without the token in its address
        tab.wait_for_selector("body[data-ready='1']", timeout=20000)
        tab.wait_for_selector("#db-table tbody tr.study", timeout=20000)
    finally:
        context.close()


def test_the_page_cannot_be_framed_by_another_site(web: Page, browser: Any, other_site: OtherSite) -> None:
    other_site.html = f'<!doctype html><title>framer</title><iframe src="{web.url}"></iframe>'
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(other_site.url)
        tab.wait_for_load_state("load")
        time.sleep(2)
        framed = []
        for frame in tab.frames[1:]:
            try:
                framed.append(frame.evaluate("document.body && document.body.dataset.ready"))
            except Exception:  # a blocked frame has no document of ours
                framed.append(None)
        assert framed and "1" not in framed
    finally:
        context.close()


def test_every_answer_carries_the_security_headers(web: Page) -> None:
    answers = {
        "/": web.request("GET", "/", headers={"Host": f"127.0.0.1:{web.port}"}),
        "/static/app.js": web.request("GET", "/static/app.js"),
        "/api/info": web.request("GET", "/api/info", headers={"X-Osirix-Tasks-Token": web.token}),
        "/api/info without the token": web.request("GET", "/api/info"),
    }
    assert answers["/api/info"][0] == 200 and answers["/api/info without the token"][0] == 403
    for name, (_, headers, _) in answers.items():
        policy = headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy, name
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, name
        assert headers.get("x-frame-options") == "DENY", name
        assert headers.get("x-content-type-options") == "nosniff", name
        assert headers.get("referrer-policy") == "no-referrer", name
    for name in ("/", "/api/info", "/api/info without the token"):
        assert answers[name][1].get("cache-control") == "no-store", name


def test_writes_need_the_token_header_their_own_origin_and_json(web: Page) -> None:
    body = json.dumps({"address": ""}).encode()
    good = {"X-Osirix-Tasks-Token": web.token, "Origin": web.base, "Content-Type": "application/json"}

    def put(headers: dict[str, str], path: str = "/api/servers/target") -> int:
        return web.request("PUT", path, body, headers)[0]

    assert put(good) == 200
    assert put({k: v for k, v in good.items() if k != "Origin"}) == 403
    assert put(good | {"Origin": "http://127.0.0.1:1"}) == 403
    assert put(good | {"Origin": "null"}) == 403
    assert put(good | {"Content-Type": "text/plain"}) == 403
    assert put({k: v for k, v in good.items() if k != "Content-Type"}) == 403
    no_token = {k: v for k, v in good.items() if k != "X-Osirix-Tasks-Token"}
    assert put(no_token, f"/api/servers/target?token={web.token}") == 403
    assert put(no_token | {"Cookie": f"osirix_tasks_token_{web.port}={web.token}"}) == 403


def test_a_host_name_other_than_the_bound_address_is_refused(web: Page) -> None:
    token = {"X-Osirix-Tasks-Token": web.token}
    assert web.request("GET", "/api/info", headers=token | {"Host": f"localhost:{web.port}"})[0] == 200
    assert web.request("GET", "/api/info", headers=token | {"Host": f"evil.example:{web.port}"})[0] == 403
    assert web.request("GET", "/api/info", headers=token | {"Host": "127.0.0.1:1"})[0] == 403
    assert web.request("GET", "/", headers={"Host": f"evil.example:{web.port}"})[0] == 403


def _first_event(web: Page, path: str) -> tuple[int, bytes]:
    """The status of an event stream and its first event (the connection is closed after it)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        if response.status != 200:
            return response.status, response.read()
        data = b""
        while b"\n\n" not in data:
            data += response.read1(4096)
        return 200, data
    finally:
        connection.close()


def test_event_streams_take_a_short_lived_single_use_ticket(web: Page) -> None:
    assert _first_event(web, "/api/runs/events")[0] == 403
    assert _first_event(web, f"/api/runs/events?token={web.token}")[0] == 403
    status, data = web.api("POST", "/api/tickets", json.dumps({"path": "/api/runs/events"}).encode())
    assert status == 200, data
    ticket = json.loads(data)["ticket"]
    status, first = _first_event(web, f"/api/runs/events?ticket={ticket}")
    assert status == 200 and first.startswith(b"event: runs\n")
    assert _first_event(web, f"/api/runs/events?ticket={ticket}")[0] == 403  # used once
    status, data = web.api("POST", "/api/tickets", json.dumps({"path": "/api/runs/events"}).encode())
    other = json.loads(data)["ticket"]
    assert _first_event(web, f"/api/runs/nope/stream?ticket={other}")[0] == 403  # for its own path only
    status, data = web.api("POST", "/api/tickets", json.dumps({"path": "/api/info"}).encode())
    assert status == 400 and b"event stream" in data


def test_ui_opens_a_private_redirect_file_instead_of_putting_the_token_on_a_command_line(
    web: Page, browser: Any, tmp_path: Path
) -> None:
    argv_file = tmp_path / "argv.json"
    fake_browser = tmp_path / "fake-browser"
    fake_browser.write_text(
        f"#!{sys.executable}\nimport json, sys\nopen({str(argv_file)!r}, 'w').write(json.dumps(sys.argv))\n"
    )
    fake_browser.chmod(0o700)
    result = run_cli("ui", env=web.host.env(BROWSER=str(fake_browser)))
    assert result.returncode == 0, result.stderr
    deadline = time.monotonic() + 20
    while not argv_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    argv = json.loads(argv_file.read_text())
    assert web.token not in " ".join(argv)  # what `ps` shows every user
    opened = Path(urlparse(argv[1]).path)
    assert argv[1].startswith("file://") and opened.is_file()
    assert stat.S_IMODE(opened.stat().st_mode) == 0o600
    assert stat.S_IMODE(opened.parent.stat().st_mode) == 0o700
    assert web.token in opened.read_text()
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.goto(argv[1])  # what the browser does with it: it lands on the page, token out of sight
        tab.wait_for_selector("body[data-ready='1']", timeout=20000)
        assert tab.url.startswith(web.base) and "token" not in tab.url
    finally:
        context.close()


def _poll(tab: Any, expression: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not tab.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        time.sleep(0.1)


def test_the_page_itself_breaks_no_rule_of_its_content_security_policy(web: Page, browser: Any) -> None:
    with policed_tab(browser, web) as (tab, violations):
        tab.wait_for_selector("#db-table tbody tr.series", timeout=20000)
        # (Playwright's wait_for_function evaluates strings, which this policy forbids: poll instead)
        _poll(tab, "[...document.querySelectorAll('canvas.thumb')].every(c => c.width > 8)")
        tab.dblclick("#db-table tbody tr.series")
        _poll(tab, "window.osirixTasks.viewer.stats.paints > 0")
        for view in ("vr", "servers", "scripts", "console", "batch", "database"):
            tab.click(f"#tabs a[data-view='{view}']")
            tab.wait_for_selector(f"#view-{view}.active")
        time.sleep(1)
        assert not violations, violations


def test_event_streams_end_and_the_page_goes_on_with_new_tickets(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("streamhome")
    registry = home / "tasks.toml"
    ticker = home / "ticker.py"
    ticker.write_text("import time\nfor i in range(12):\n    print(f'tick {i}', flush=True)\n    time.sleep(0.3)\n")
    registry.write_text(f'[[task]]\nname = "Ticker"\ntype = "Database"\nlocation = "{ticker}"\n')
    with running_host(home, "--demo", "--registry", str(registry), "--web-stream-seconds", "1") as host:
        web = page_of(host, registry)
        context = browser.new_context()
        try:
            tab = context.new_page()
            tickets: list[str] = []
            tab.on("request", lambda r: tickets.append(r.url) if r.url.endswith("/api/tickets") else None)
            tab.goto(web.url)
            tab.wait_for_selector("body[data-ready='1']", timeout=20000)
            tab.click("#tabs a[data-view='console']")
            result = host.cli("--registry", str(registry), "run", "Ticker", "--background")
            assert result.returncode == 0, result.stderr
            # the run list (its stream ends every second) shows the run ending 3.6 s later
            tab.wait_for_selector("#con-runs tbody tr td.run-status:text('succeeded')", timeout=30000)
            tab.wait_for_selector("#con-info:has-text('succeeded')", timeout=30000)
            output = "".join(tab.locator("#con-output .stdout").all_inner_texts())
        finally:
            context.close()
    # the output, followed over several streams, arrived whole and once
    assert output.split() == " ".join(f"tick {i}" for i in range(12)).split()
    assert len(tickets) >= 6  # the run list and the output each reconnected with new tickets


def _open_stream(web: Page) -> tuple[int, socket.socket]:
    """An event stream of the run list opened with a fresh ticket: its status and its connection."""
    status, data = web.api("POST", "/api/tickets", json.dumps({"path": "/api/runs/events"}).encode())
    assert status == 200, data
    sock = socket.create_connection(("127.0.0.1", web.port), timeout=10)
    ticket = json.loads(data)["ticket"]
    sock.sendall(f"GET /api/runs/events?ticket={ticket} HTTP/1.1\r\nHost: 127.0.0.1:{web.port}\r\n\r\n".encode())
    head = b""
    while b"\r\n" not in head:
        head += sock.recv(4096)
    return int(head.split()[1]), sock


def test_event_streams_are_capped(web: Page) -> None:
    held: list[socket.socket] = []
    try:
        for _ in range(MAX_STREAMS + 4):
            status, sock = _open_stream(web)
            held.append(sock)
            if status == 503:
                break
            assert status == 200
        assert status == 503 and len(held) <= MAX_STREAMS + 1
        held.pop(0).close()  # one ends: its place is free again once the host notices
        deadline = time.monotonic() + 10
        while (status := _open_stream(web))[0] != 200:
            status[1].close()
            assert time.monotonic() < deadline, "no stream could open after one closed"
            time.sleep(0.2)
        held.append(status[1])
    finally:
        for sock in held:
            sock.close()
