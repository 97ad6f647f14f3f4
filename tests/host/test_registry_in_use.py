"""Which registry each side uses is shown (tasks list, servers list, the host's status), the host follows
the registry it was given, and it offers no task of a registry that validate rejects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from osirix_tasks.host.control import live_hosts, send
from osirix_tasks.host.control_protocol import Status
from osirix_tasks.web.page import Page

GOOD = """[[task]]
name = "Offered"
type = "Database"
location = "offered.py"
"""
BROKEN = (
    GOOD
    + """
[[task]]
name = "Broken"
type = "NoSuchType"
location = "offered.py"
"""
)


def make_registry(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "offered.py").write_text("print('offered')\n")
    (folder / "tasks.toml").write_text(text)
    return folder / "tasks.toml"


def test_each_side_shows_its_registry_and_the_host_follows_the_one_it_was_given(
    start_host: Callable[..., Any], tmp_path: Path
) -> None:
    hosts_registry = make_registry(tmp_path / "served", GOOD)
    elsewhere = make_registry(tmp_path / "elsewhere", GOOD.replace("Offered", "Elsewhere"))
    with start_host("--empty", "--no-web", "--registry", str(hosts_registry), home=tmp_path / "home") as host:
        assert f"Registry: {hosts_registry}" in "".join(host.output)
        listed = host.cli("tasks", "list", cwd=elsewhere.parent)  # the CLI's registry: the current folder's
        assert listed.returncode == 0, listed.stderr
        assert listed.stdout.splitlines()[0] == f"Registry: {elsewhere}"
        assert f"the embedded OsiriX (pid {host.process.pid}) offers the tasks of {hosts_registry}" in listed.stderr
        same = host.cli("--registry", str(hosts_registry), "tasks", "list")
        assert "offers the tasks of" not in same.stderr  # no drift, no note
        servers = json.loads(host.cli("servers", "list", "--json").stdout)["servers"]
        assert [row["registry"] for row in servers if row["host_pid"]] == [str(hosts_registry)]
        assert f"registry {hosts_registry}" in host.cli("servers", "list").stdout
        [info] = live_hosts(host.env())
        status = send(info, Status(), timeout=30).data["registry"]
        assert status == {"path": str(hosts_registry), "problems": []}
        hosts_registry.write_text(BROKEN)  # the host follows its file as it changes
        problems = send(info, Status(), timeout=30).data["registry"]["problems"]
        assert len(problems) == 1 and "field 'type'" in problems[0]


def test_the_page_offers_no_task_of_a_registry_validate_rejects(tmp_path: Path) -> None:
    registry = make_registry(tmp_path, GOOD)
    page = Page(host=None, registry=registry)
    assert [e.spec.name for e in page.catalog().entries if e.origin.startswith("tasks.toml")] == ["Offered"]
    registry.write_text(BROKEN)
    catalog = page.catalog()
    assert [e.spec.name for e in catalog.entries if e.origin.startswith("tasks.toml")] == []
    assert any("none of its tasks are offered until its problems are fixed" in p for p in catalog.problems)
    assert any("field 'type'" in p for p in catalog.problems)  # with the problems shown
    assert any(e.origin == "builtin" for e in catalog.entries)  # builtins and packs are still offered
