"""The task's own process: ``python -u -m osirix_tasks.run.launch --location mod:func ...``.

With ``--warm`` (see :mod:`.warm`) it first imports what a task needs, then waits for the run to
be handed over on stdin as one JSON line (its arguments, environment and working folder), so a
host's runs start without paying for Python's start-up and imports.

It loads the plugins the registry enables, imports the decorated function, builds the connected
context through the ``osirix_tasks_context`` hooks and calls the body through the
``osirix_tasks_run_task`` hook (so plugins can wrap every run). Exit codes are
:class:`osirix_tasks.contract.ExitCode`: 0 done, 1 the task raised, 2 the task could not be
loaded, 3 what the task needs is not open or selected in OsiriX.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from types import TracebackType

from ..contract import ExitCode
from ..errors import ContextUnavailable


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The launcher's command line (also what a batch's warm item process is handed per item)."""
    parser = argparse.ArgumentParser(prog="python -m osirix_tasks.run.launch")
    parser.add_argument("--location", required=True)
    parser.add_argument("--type", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--registry", default=None)
    parser.add_argument("args", nargs="*")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run one decorated task; returns the process exit code."""
    options = parse_arguments(argv)

    from ..decorators import load_task_function, task_of
    from .context_build import build_context, task_plugins

    try:
        plugins = task_plugins(options.registry)
        function = load_task_function(options.location)
    except Exception as exc:
        print(
            f"osirix-tasks: cannot load task '{options.name}' ({options.location}): {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return ExitCode.NOT_LOADED
    own = task_of(function)
    assert own is not None
    # The registry may name the function's task otherwise: the name it was started as wins.
    spec = own if own.name == options.name else own.model_copy(update={"name": options.name})
    try:
        context = build_context(spec, plugins, options.args)
    except ContextUnavailable as exc:
        print(f"osirix-tasks: {exc}", file=sys.stderr)
        return ExitCode.CONTEXT_UNAVAILABLE
    try:
        plugins.manager.hook.osirix_tasks_run_task(context=context, task=spec, function=function)
    except Exception as exc:
        print(
            f"osirix-tasks: task '{spec.name}' ({spec.type.value}) failed: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        traceback.print_exception(type(exc), exc, _from_user_frame(exc.__traceback__, function))
        return ExitCode.TASK_FAILED
    finally:
        context.close()
    return ExitCode.OK


def _from_user_frame(tb: TracebackType | None, function: object) -> TracebackType | None:
    """The traceback from the task's own module on (the launcher's and pluggy's frames left out)."""
    code = getattr(function, "__code__", None)
    filename = code.co_filename if code is not None else None
    current = tb
    while current is not None and current.tb_frame.f_code.co_filename != filename:
        current = current.tb_next
    return current or tb


def preload() -> None:
    """Import what every decorated task needs: the launcher, the plugins, the context hooks, the
    gRPC client and numpy (nothing connects yet)."""
    import importlib

    import numpy  # noqa: F401

    from ..decorators import load_task_function  # noqa: F401
    from ..plugins import DEFAULT_CONTEXT
    from . import context_build  # noqa: F401  (plugins, registry settings, pydantic)

    importlib.import_module(DEFAULT_CONTEXT)  # the client, gRPC, the stubs


def warm_main() -> int:
    """Preload, then run the task handed over on stdin (an empty line or EOF: exit quietly)."""
    preload()
    line = sys.stdin.readline()
    if not line.strip():
        return ExitCode.OK
    handoff = json.loads(line)
    os.environ.clear()
    os.environ.update(handoff["env"])
    os.chdir(handoff["cwd"])
    sys.path[0] = handoff["cwd"]  # what ``-m`` would have put there, started in that folder
    sys.argv = [sys.argv[0], *handoff["argv"]]
    return main(handoff["argv"])


if __name__ == "__main__":
    sys.exit(warm_main() if sys.argv[1:] == ["--warm"] else main())
