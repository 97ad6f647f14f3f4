"""A temporary project: a registry of script tasks and the CLI run against it."""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

from ..contract import Env
from ..model import RunStatus
from .environment import isolated_env, run_cli

__all__ = ["Project", "output_text"]


class Project:
    """A registry of script tasks in ``root`` (also its home) and ``osirix-tasks`` run against it."""

    def __init__(self, root: Path, server: str = "127.0.0.1:1"):
        self.root = root
        self.registry = root / "tasks.toml"
        self.registry.write_text("")
        self.env = isolated_env(root, **{Env.REGISTRY: str(self.registry), Env.SERVER: server})

    def script(
        self,
        name: str,
        body: str,
        *,
        kind: str = "Database",
        blocking: bool = False,
        timeout: float | None = None,
        interpreter: str | None = None,
    ) -> Path:
        """Write ``scripts/NAME.py`` with ``body`` and register it as a task."""
        path = self.root / "scripts" / f"{name}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(textwrap.dedent(body))
        lines = [f'[[task]]\nname = "{name}"\ntype = "{kind}"\nlocation = "{path}"\nblocking = {str(blocking).lower()}']
        if timeout:
            lines.append(f"timeout = {timeout}")
        if interpreter:
            lines.append(f'interpreter = "{interpreter}"')
        with self.registry.open("a") as handle:
            handle.write("\n".join(lines) + "\n\n")
        return path

    def cli(self, *args: str, timeout: float = 120, check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run ``osirix-tasks ARGS`` in the project (``check``: assert it succeeded)."""
        done = run_cli(*args, env=self.env, timeout=timeout, cwd=self.root)
        if check:
            assert done.returncode == 0, done.stderr
        return done

    def runs(self) -> list[dict[str, Any]]:
        """``osirix-tasks runs --json``."""
        return json.loads(self.cli("runs", "--json", check=True).stdout)

    def output(self, run_id: str) -> dict[str, Any]:
        """``osirix-tasks console RUN --json``."""
        return json.loads(self.cli("console", run_id, "--json", check=True).stdout)

    def wait(self, run_id: str, seconds: float = 60) -> dict[str, Any]:
        """The run's record once it has finished (AssertionError after ``seconds``)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            [record] = [r for r in self.runs() if r["id"] == run_id]
            if RunStatus(record["status"]).finished:
                return record
            time.sleep(0.2)
        raise AssertionError(f"run {run_id} did not finish")


def output_text(output: dict[str, Any], stream: str) -> str:
    """The text of one stream (``stdout``, ``stderr``, ``system``) of ``osirix-tasks console --json``."""
    return "".join(c["text"] for c in output["output"] if c["stream"] == stream)
