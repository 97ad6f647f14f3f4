"""``run --server PORT`` reaches an unmodified pyosirix script, whichever server pyosirix would pick."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from osirix_tasks.run.pyosirix_bridge import pyosirix_port
from osirix_tasks.testing import Project

SCRIPT = """
    import json, os, osirix  # pyosirix, unmodified: it finds its server by itself
    version = osirix.osirix_version()  # a real call on the server it found
    print(json.dumps({"port": osirix.osirixgrpc_port_preference(), "version": list(version),
                      "home": os.environ["HOME"], "expanded": os.path.expanduser("~")}))
"""


def test_the_chosen_server_is_the_one_pyosirix_reaches(start_host: Callable[..., Any], project: Project) -> None:
    home = project.root
    project.script("which_server", SCRIPT)
    configs_path = home / "Library" / "Application Support" / "OsirixGRPC" / "server_configs.json"
    with start_host("--empty", home=home) as first, start_host("--empty", home=home) as second:
        assert pyosirix_port(str(home)) == second.ports[0]  # started last: pyosirix's own pick
        before = configs_path.read_bytes()
        for chosen in (first.ports[0], second.ports[0]):
            project.env["OSIRIX_TASKS_SERVER"] = f"127.0.0.1:{chosen}"
            done = project.cli("run", "which_server", timeout=120)
            assert done.returncode == 0, done.stderr
            seen = json.loads(done.stdout.strip().splitlines()[-1])
            assert int(seen["port"]) == chosen and seen["version"][0].startswith("osirix-tasks")
            assert seen["home"] == str(home) and seen["expanded"] == str(home)  # its HOME is its own
        assert configs_path.read_bytes() == before  # the user's file was not rewritten


def test_the_bridge_is_only_used_when_needed(tmp_path: Path) -> None:
    from osirix_tasks.run.pyosirix_bridge import bridge_pyosirix

    configs = tmp_path / "Library" / "Application Support" / "OsirixGRPC" / "server_configs.json"
    configs.parent.mkdir(parents=True)
    configs.write_text(
        json.dumps(
            [
                {"ipaddress": "127.0.0.1", "port": "50051", "active": "YES"},
                {"ipaddress": "127.0.0.1", "port": "50052", "active": "YES"},
                {"ipaddress": "127.0.0.1", "port": "50053", "active": "NO"},
            ]
        )
    )
    env = {"HOME": str(tmp_path)}
    assert not bridge_pyosirix(env, "127.0.0.1:50052") and "PYTHONPATH" not in env
    assert bridge_pyosirix(env, "127.0.0.1:50051")
    assert env["PYTHONPATH"].endswith("_pyosirix_site") and env["OSIRIX_TASKS_PYOSIRIX_HOME"]
