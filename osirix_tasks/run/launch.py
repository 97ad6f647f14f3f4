"""The task's own process: ``python -u -m osirix_tasks.run.launch --location mod:func ...``.

It loads the plugins the registry enables, imports the decorated function, builds the connected
context through the ``osirix_tasks_context`` hooks and calls the body through the
``osirix_tasks_run_task`` hook (so plugins can wrap every run). Exit codes are
:class:`osirix_tasks.contract.ExitCode`: 0 done, 1 the task raised, 2 the task could not be
loaded, 3 what the task needs is not open or selected in OsiriX.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from ..contract import ExitCode
from ..errors import ContextUnavailable


def main(argv: list[str] | None = None) -> int:
    """Run one decorated task; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m osirix_tasks.run.launch")
    parser.add_argument("--location", required=True)
    parser.add_argument("--type", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--registry", default=None)
    parser.add_argument("args", nargs="*")
    options = parser.parse_args(argv)

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
    spec = task_of(function)
    assert spec is not None
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
        traceback.print_exc()
        return ExitCode.TASK_FAILED
    finally:
        context.close()
    return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
