"""The node's tables in tasks.toml ([dicom], [[dicom.node]], [[trigger]]) with their line numbers, who may
talk to the node, and C-FIND's matching rules. No peer is needed here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from osirix_tasks.client.server_configs import free_port
from osirix_tasks.dicomnode.allow import AllowList, RefusalLog
from osirix_tasks.dicomnode.matching import matches
from osirix_tasks.model import TriggerLevel
from osirix_tasks.registry import load_registry
from osirix_tasks.testing.environment import isolated_env


def _load(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "tasks.toml"
    path.write_text(text, encoding="utf-8")
    return [str(p) for p in load_registry(path).problems]


def test_valid_tables_are_read(tmp_path: Path) -> None:
    path = tmp_path / "tasks.toml"
    path.write_text(
        """
[dicom]
ae_title = "READING_ROOM"
port = 11112

[[dicom.node]]
name = "pacs"
ae_title = "ORTHANC"
host = "127.0.0.1"
port = 4242

[[trigger]]
task = "Lung nodules"
level = "study"
modality = "CT"
stable_seconds = 60
""",
        encoding="utf-8",
    )
    registry = load_registry(path)
    assert registry.problems == []
    assert (registry.dicom.ae_title, registry.dicom.port, registry.dicom.find_node("pacs").port) == (
        "READING_ROOM",
        11112,
        4242,
    )
    trigger = registry.triggers[0]
    assert (trigger.level, trigger.modality, trigger.stable_seconds) == (TriggerLevel.STUDY, ["CT"], 60.0)


def test_problems_name_their_line_and_field(tmp_path: Path) -> None:
    found = _load(
        tmp_path,
        """[dicom]
ae_title = "A NAME LONGER THAN SIXTEEN"

[[dicom.node]]
name = "pacs"
ae_title = "ORTHANC"
host = "127.0.0.1"

[[trigger]]
task = "Lung nodules"
stable_seconds = -1
""",
    )
    assert any(p.startswith("tasks.toml:2: dicom: field 'ae_title': AE title") for p in found), found
    assert any(p.startswith("tasks.toml:4: dicom node 'pacs': field 'port': missing") for p in found), found
    assert any(p.startswith("tasks.toml:11: trigger 'Lung nodules': field 'stable_seconds'") for p in found), found


def test_listening_wider_needs_both_allow_lists(tmp_path: Path) -> None:
    found = _load(tmp_path, '[dicom]\naddress = "0.0.0.0"\nallowed_aets = ["CT1"]\n')
    assert len(found) == 1 and "allowed_addresses" in found[0] and "listen on 127.0.0.1" in found[0]
    assert (
        _load(tmp_path, '[dicom]\naddress = "0.0.0.0"\nallowed_aets = ["CT1"]\nallowed_addresses = ["10.1.2.0/24"]\n')
        == []
    )


def test_serve_refuses_a_wider_address_without_allow_lists(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "osirix_tasks",
            "serve",
            "--empty",
            "--no-web",
            "--database",
            str(tmp_path / "db"),
            "--port",
            str(free_port()),
            "--registry",
            str(tmp_path / "tasks.toml"),
            "--dicom-port",
            str(free_port()),
            "--dicom-address",
            "0.0.0.0",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=isolated_env(tmp_path / "home"),
    )
    assert done.returncode == 1
    assert "listening on 0.0.0.0 lets other machines" in done.stderr and "allowed_aets" in done.stderr


def test_allow_list_by_address_and_network() -> None:
    allow = AllowList(("CT1",), ("192.168.1.0/24", "10.0.0.7"))
    assert allow.address_allowed("192.168.1.20") and allow.address_allowed("::ffff:10.0.0.7")
    assert not allow.address_allowed("192.168.2.1") and not allow.address_allowed("not an address")
    assert allow.aet_allowed("CT1 ") and not allow.aet_allowed("CT2")
    assert AllowList().address_allowed("8.8.8.8")  # no list: the bind address is the limit


def test_refusals_are_logged_once_per_peer_and_window(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    refusals = RefusalLog(window=60, clock=lambda: now[0])
    logged = [refusals.refused("10.0.0.9", "X", "calling AE title not in allowed_aets") for _ in range(5)]
    now[0] = 61
    logged.append(refusals.refused("10.0.0.9", "X", "again"))
    logged.append(refusals.refused("10.0.0.8", "X", "another peer"))
    assert logged == [True, False, False, False, False, True, True]
    assert refusals.counts[("10.0.0.9", "X")] == 6
    assert "6 refusals so far" in caplog.records[1].getMessage()


@pytest.mark.parametrize(
    ("query", "value", "vr", "expected"),
    [
        ("", "anything", "LO", True),
        ("DOE^J*", "Doe^John", "PN", True),
        ("DOE^J?HN", "DOE^JOHN", "PN", True),
        ("SMITH*", "Doe^John", "PN", False),
        ("20240101-20241231", "20240315", "DA", True),
        ("-20231231", "20240315", "DA", False),
        ("20240316-", "20240315", "DA", False),
        ("1.2.3\\1.2.4", "1.2.4", "UI", True),
        ("1.2.*", "1.2.4", "UI", False),  # no wildcards in UIDs
        ("CT\\MR", "MR", "CS", True),
        ("CT", ["MR", "CT"], "CS", True),
        ("a[b]", "a[b]", "LO", True),  # brackets are not special in DICOM
    ],
)
def test_matching_rules(query: str, value: object, vr: str, expected: bool) -> None:
    assert matches(query, value, vr) is expected


def _documented_fields(cls: type) -> dict[str, bool]:
    """Each field of a model class: whether a ``#:`` comment stands right above it or its Field has a
    description (the docs site's tasks.toml reference is made from these)."""
    import ast
    import inspect

    source = inspect.getsource(cls)
    lines = source.splitlines()
    found = {}
    for node in ast.parse(source).body[0].body:  # type: ignore[attr-defined]
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            name = node.target.id
            if name == "model_config":
                continue
            above = lines[node.lineno - 2].strip() if node.lineno >= 2 else ""
            found[name] = above.startswith("#:") or bool(cls.model_fields[name].description)  # type: ignore[attr-defined]
    return found


def test_every_field_of_the_node_tables_says_what_it_means() -> None:
    from osirix_tasks.model import DicomSettings, RemoteNode, TriggerSpec

    for cls in (DicomSettings, RemoteNode, TriggerSpec):
        fields = _documented_fields(cls)
        assert set(fields) == set(cls.model_fields), cls  # every field was seen
        assert [name for name, documented in fields.items() if not documented] == [], cls.__name__


def test_the_node_s_choices_travel_to_a_host_in_its_own_process() -> None:
    from osirix_tasks.cli.serve_cmd import serve
    from osirix_tasks.host.config import HostConfig

    config = HostConfig(dicom_port=0, dicom_aet="READING_ROOM", dicom_address="127.0.0.1")
    parsed = serve.make_context("serve", config.serve_args()).params
    assert (parsed["dicom_port"], parsed["dicom_aet"], parsed["dicom_address"]) == (0, "READING_ROOM", "127.0.0.1")
    unset = serve.make_context("serve", HostConfig().serve_args()).params
    assert (unset["dicom_port"], unset["dicom_aet"], unset["dicom_address"]) == (None, None, None)


def test_every_host_config_field_travels_to_a_host_in_its_own_process(tmp_path: Path) -> None:
    from osirix_tasks.cli.serve_cmd import serve
    from osirix_tasks.host.config import HostConfig

    config = HostConfig(
        ports=(50100, 50101),
        database=tmp_path / "db",
        empty=True,
        demo=True,
        imports=(str(tmp_path),),
        web_port=8123,
        web_stream_seconds=5.0,
        registry=tmp_path / "tasks.toml",
        dicom_port=11112,
        dicom_aet="ROOM",
        dicom_address="127.0.0.1",
        temporary=True,
        max_decode_mb=64.0,
        allow_other_users=True,
        verbose=True,
    )
    parsed = serve.make_context("serve", config.serve_args()).params
    assert parsed["ports"] == (50100, 50101) and parsed["imports"] == (str(tmp_path),)
    assert (parsed["database"], parsed["web_registry"]) == (str(tmp_path / "db"), str(tmp_path / "tasks.toml"))
    assert (parsed["web_port"], parsed["web_stream_seconds"], parsed["no_web"]) == (8123, 5.0, False)
    assert all(parsed[k] for k in ("empty", "demo", "temporary", "allow_other_users", "verbose"))
    assert (parsed["dicom_port"], parsed["dicom_aet"], parsed["max_decode_mb"]) == (11112, "ROOM", 64.0)
    assert serve.make_context("serve", HostConfig(web=False, web_port=9).serve_args()).params["no_web"] is True
