"""Ask an interpreter what it can run: its Python, its osirix-tasks, the imports tasks need there."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..catalog import Catalog

__all__ = ["Probe", "InterpreterReport", "probe", "interpreter_reports", "script_uses_osirix_tasks"]

#: Run by the interpreter under test: prints one JSON object. Each import is what one kind of task
#: needs there: the launcher (decorated tasks), the context builder and the builtin context hooks
#: that connect to OsiriX (both kinds).
_PROBE = r"""
import importlib, json, sys
out = {"python": sys.version.split()[0], "executable": sys.executable, "prefix": sys.prefix}
try:
    from importlib.metadata import version
    out["osirix_tasks"] = version("osirix-tasks")
except Exception:
    out["osirix_tasks"] = None
def missing(*modules):
    for name in modules:
        try:
            importlib.import_module(name)
        except BaseException as exc:
            return f"cannot import {name}: {type(exc).__name__}: {exc}"
    return None
out["decorated"] = missing("osirix_tasks.run.launch", "osirix_tasks.run.context_build",
                           "osirix_tasks.builtin.default_context")
out["context"] = missing("osirix_tasks.run.context_build", "osirix_tasks.builtin.default_context")
try:
    import pip
    out["pip"] = pip.__version__
except Exception:
    out["pip"] = None
print(json.dumps(out))
"""


@dataclass(frozen=True)
class Probe:
    """What one interpreter answered (``problem`` when it could not be asked at all)."""

    interpreter: str
    python: str | None = None
    osirix_tasks: str | None = None
    decorated_problem: str | None = "not probed"
    context_problem: str | None = "not probed"
    pip: str | None = None
    problem: str | None = None

    @property
    def runs_decorated(self) -> bool:
        """Whether it can start a decorated task (``-m osirix_tasks.run.launch``)."""
        return self.problem is None and self.decorated_problem is None

    @property
    def runs_context(self) -> bool:
        """Whether a script run with it can call ``osirix_tasks.context()``."""
        return self.problem is None and self.context_problem is None


def probe(interpreter: str, cwd: str | None = None, timeout: float = 60) -> Probe:
    """Run the probe with ``interpreter`` in ``cwd`` (where the runner starts tasks)."""
    if not (os.path.isfile(interpreter) and os.access(interpreter, os.X_OK)):
        return Probe(interpreter, problem="does not exist or is not executable")
    try:
        done = subprocess.run(
            [interpreter, "-c", _PROBE], capture_output=True, text=True, timeout=timeout, cwd=cwd or os.getcwd()
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Probe(interpreter, problem=f"could not be started: {exc}")
    try:
        data = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return Probe(interpreter, problem=f"is not a Python 3 that runs the probe (exit {done.returncode}: {tail[0]})")
    return Probe(
        interpreter,
        python=data.get("python"),
        osirix_tasks=data.get("osirix_tasks"),
        decorated_problem=data.get("decorated"),
        context_problem=data.get("context"),
        pip=data.get("pip"),
    )


def script_uses_osirix_tasks(path: str) -> bool:
    """Whether a script imports osirix_tasks (then its interpreter must have it); False if unreadable."""
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8", errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "osirix_tasks" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "osirix_tasks":
            return True
    return False


@dataclass
class InterpreterReport:
    """One interpreter the registry uses: what it answered, its tasks, and what cannot run there."""

    probe: Probe
    tasks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Plain data for ``--json``."""
        p = self.probe
        return {
            "interpreter": p.interpreter,
            "python": p.python,
            "osirix_tasks": p.osirix_tasks,
            "same_version": p.osirix_tasks == __version__,
            "decorated_tasks": p.runs_decorated,
            "context": p.runs_context,
            "pip": p.pip,
            "error": p.problem,
            "why_not": p.decorated_problem if p.problem is None else p.problem,
            "tasks": self.tasks,
            "problems": self.problems,
        }


def interpreter_reports(catalog: Catalog) -> list[InterpreterReport]:
    """Every interpreter of the catalog's tasks (and the one running osirix-tasks), probed in parallel."""
    cwd = str(catalog.registry.path.parent) if catalog.registry.path.parent.is_dir() else os.getcwd()
    names = list(dict.fromkeys([sys.executable, *(e.spec.interpreter for e in catalog.entries)]))
    with ThreadPoolExecutor(max_workers=4) as pool:
        probes = dict(zip(names, pool.map(lambda i: probe(i, cwd), names), strict=True))
    reports = {name: InterpreterReport(probes[name]) for name in names}
    for entry in catalog.entries:
        spec = entry.spec
        report = reports[spec.interpreter]
        kind = "script" if spec.is_script else "decorated"
        report.tasks.append(f"{spec.name} ({spec.type.value}, {kind})")
        result = report.probe
        if result.problem is not None:
            report.problems.append(f"task '{spec.name}' cannot start: the interpreter {result.problem}")
        elif not spec.is_script and not result.runs_decorated:
            report.problems.append(
                f"task '{spec.name}' is a decorated task but this interpreter {result.decorated_problem} - "
                f"run 'osirix-tasks interpreters install {spec.interpreter}'"
            )
        elif spec.is_script and not result.runs_context and script_uses_osirix_tasks(spec.location):
            report.problems.append(
                f"script task '{spec.name}' imports osirix_tasks but this interpreter {result.context_problem} - "
                f"run 'osirix-tasks interpreters install {spec.interpreter}'"
            )
    return list(reports.values())
