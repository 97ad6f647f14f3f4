"""Make an unmodified pyosirix script reach the server its run was given (``run --server PORT``).

pyosirix finds OsiriX by itself: the last active entry of ``~/Library/Application Support/
OsirixGRPC/server_configs.json``. When a run's server is another one, the run's PYTHONPATH gets a
small ``sitecustomize`` (``_pyosirix_site/``) that shows pyosirix - and only pyosirix - a folder
whose server_configs.json lists the run's server alone. The user's own file is never rewritten,
and the task's HOME stays its HOME.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from .._support.atomic import write_atomic
from .._support.paths import user_data_dir
from ..contract import Env

__all__ = ["pyosirix_port", "bridge_pyosirix", "BRIDGE_VARIABLE"]

BRIDGE_VARIABLE = Env.PYOSIRIX_HOME
_SITE = Path(__file__).with_name("_pyosirix_site")


def pyosirix_port(home: str) -> int | None:
    """The port pyosirix would connect to for a process whose HOME is ``home`` (its own rule)."""
    path = Path(home) / "Library" / "Application Support" / "OsirixGRPC" / "server_configs.json"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    port = None
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and entry.get("active") == "YES":
            port = entry.get("port")
    try:
        return int(port) if port is not None else None
    except (TypeError, ValueError):
        return None


def bridge_pyosirix(env: dict[str, str], server: str, environ: Mapping[str, str] | None = None) -> bool:
    """Point pyosirix in a run with environment ``env`` at ``server`` (host:port) when it would pick
    another; returns whether the bridge was needed."""
    port = int(server.rpartition(":")[2])
    if pyosirix_port(env.get("HOME", os.path.expanduser("~"))) == port:
        return False
    home = user_data_dir() / "pyosirix-homes" / str(port)
    configs = home / "Library" / "Application Support" / "OsirixGRPC" / "server_configs.json"
    entry = [{"ipaddress": "127.0.0.1", "port": str(port), "active": "YES"}]
    write_atomic(configs, json.dumps(entry, indent=4).encode("utf-8"), backup=False)
    existing = env.get("PYTHONPATH") or (environ or {}).get("PYTHONPATH")
    env["PYTHONPATH"] = f"{_SITE}{os.pathsep}{existing}" if existing else str(_SITE)
    env[BRIDGE_VARIABLE] = str(home)
    return True
