"""The warm process a batch worker keeps for decorated tasks: ``python -u -m osirix_tasks.batch.item_child``.

Like the host's warm launcher (:mod:`osirix_tasks.run.warm`) it has imported the launcher, the
plugins, the context hooks, the gRPC client and numpy before the first item; unlike it, it runs item
after item, so an item costs neither Python's start-up nor the imports nor a new connection. Each
item arrives on stdin as a frame (4-byte length, then a pickle from the worker that started it):
the run's ``argv`` for the launcher, its environment and folder, and for a task that works on pixels
the arrays. The task's output goes to this process's stdout and stderr, as a launched task's does;
once it is flushed, the item's end goes back on the result pipe as a frame: the exit code (the
launcher's: 0, 1 failed, 2 not loaded, 3 no context), the task's record, and for a task that
worked on shipped pixels what it asked OsiriX to keep (:mod:`osirix_tasks.client.deferred`).

The worker ends this process's whole group on a timeout or a cancel and starts another for the next
item; a task that exits the process (``os._exit``, a crash) ends only its own item.
"""

from __future__ import annotations

import argparse
import os
import pickle
import struct
import sys
import traceback
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

from ..contract import Env, ExitCode
from ..run.launch import parse_arguments

__all__ = ["main", "read_frame", "write_frame", "flat_record"]

_HEADER = struct.Struct(">Q")


def write_frame(stream: BinaryIO | int, value: Any) -> None:
    """Write ``value`` as one length-prefixed pickle frame (to a file object or a descriptor)."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    frame = _HEADER.pack(len(data)) + data
    if isinstance(stream, int):
        view = memoryview(frame)
        while view:
            view = view[os.write(stream, view) :]
    else:
        stream.write(frame)
        stream.flush()


def read_frame(stream: BinaryIO) -> Any:
    """Read one frame written by :func:`write_frame`; None at end of file."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))  # noqa: S301 - our own worker, same user, over a private pipe


def flat_record(value: Any) -> tuple[dict[str, Any] | None, str | None]:
    """A task's return value as an item record: a flat mapping of scalars (numpy scalars become
    Python ones). Returns (record, problem); ``True``/None (nothing returned) is no record."""
    if value is None or value is True:
        return None, None
    if not isinstance(value, Mapping):
        return None, f"the task returned a {type(value).__name__}, not a mapping: no record kept for this item"
    record: dict[str, Any] = {}
    for key, item in value.items():
        scalar = item.item() if hasattr(item, "item") and getattr(item, "ndim", 1) == 0 else item
        if not isinstance(scalar, str | int | float | bool | type(None)):
            return None, (
                f"the task's record has a {type(scalar).__name__} under {key!r}: records are flat mappings of "
                "numbers, strings and booleans - return those"
            )
        record[str(key)] = scalar
    return record, None


class _Item:
    """Caches of this process: the plugins per registry, task functions per location, connections."""

    def __init__(self) -> None:
        self.plugins: dict[str | None, Any] = {}
        self.functions: dict[str, Callable[..., Any]] = {}
        self.connections: dict[str, Any] = {}

    def connection(self, server: str | None) -> Any:
        from ..client import Connection

        key = server or ""
        if key not in self.connections:
            self.connections[key] = Connection(server)
        return self.connections[key]

    def load(self, location: str, registry: str | None) -> tuple[Any, Callable[..., Any]]:
        from ..decorators import load_task_function
        from ..run.context_build import task_plugins

        if registry not in self.plugins:
            self.plugins[registry] = task_plugins(registry)
        if location not in self.functions:
            self.functions[location] = load_task_function(location)
        return self.plugins[registry], self.functions[location]


def _context(caches: _Item, spec: Any, options: argparse.Namespace, pixels: dict[str, Any] | None) -> Any:
    from ..context import TaskContext
    from ..errors import ContextUnavailable
    from ..model import TaskType
    from ..run.context_build import target_from_env

    server = os.environ.get(Env.SERVER)
    context = TaskContext(
        task=spec, server=server, run_id=os.environ.get(Env.RUN_ID), args=list(options.args), target=target_from_env()
    )
    if pixels is not None:  # a task that works on pixels: arrays instead of a connection
        from ..client.deferred import Deferred

        context.volume = pixels.get("volume")
        context.extras.update({k: v for k, v in pixels.items() if k != "volume"})
        context.deferred = Deferred(tuple(getattr(context.volume, "shape", ())))  # its SEG and ROIs go back
        if spec.type == TaskType.ROI and not context.extras.get("rois"):
            named = f" named {', '.join(repr(n) for n in context.target.rois)}" if context.target.rois else ""
            raise ContextUnavailable(
                f"'{spec.name}' works on ROIs and the series {context.target.series} has none{named} - draw them "
                "(or give the names of ROIs it has), then run it again"
            )
        return context
    context.connection = caches.connection(server)
    return context


def run_one(caches: _Item, handoff: dict[str, Any]) -> tuple[int, dict[str, Any] | None, list[Any]]:
    """Run one item in this process; returns (exit code, record, the writes it leaves for the OsiriX
    machine: a remote item's SEG and ROIs)."""
    from ..decorators import task_of
    from ..errors import ContextUnavailable

    os.environ.clear()
    os.environ.update(handoff["env"])
    os.chdir(handoff["cwd"])
    options = parse_arguments(handoff["argv"])
    try:
        plugins, function = caches.load(options.location, options.registry)
    except Exception as exc:
        print(f"osirix-tasks: cannot load task '{options.name}' ({options.location}): {exc}", file=sys.stderr)
        return ExitCode.NOT_LOADED, None, []
    own = task_of(function)
    assert own is not None
    spec = own if own.name == options.name else own.model_copy(update={"name": options.name})
    context = None
    try:
        context = _context(caches, spec, options, handoff.get("pixels"))
        if handoff.get("pixels") is None:
            plugins.manager.hook.osirix_tasks_context(context=context, task=spec)
        value = plugins.manager.hook.osirix_tasks_run_task(context=context, task=spec, function=function)
    except ContextUnavailable as exc:
        print(f"osirix-tasks: {exc}", file=sys.stderr)
        return ExitCode.CONTEXT_UNAVAILABLE, None, []
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return code, None, []
    except Exception as exc:
        print(
            f"osirix-tasks: task '{spec.name}' ({spec.type.value}) failed: {type(exc).__name__}: {exc}", file=sys.stderr
        )
        traceback.print_exception(type(exc), exc, exc.__traceback__)
        return ExitCode.TASK_FAILED, None, []
    finally:
        if context is not None:
            context.close(keep_connection=True)
    record, problem = flat_record(value)
    if problem:
        print(f"osirix-tasks: {problem}", file=sys.stderr)
    return ExitCode.OK, record, (context.deferred.writes if context.deferred is not None else [])


def main(argv: list[str] | None = None) -> int:
    """Preload, then run items from stdin until it closes."""
    parser = argparse.ArgumentParser(prog="python -m osirix_tasks.batch.item_child")
    parser.add_argument("--result-fd", type=int, required=True)
    options = parser.parse_args(argv)
    from ..run.launch import preload

    preload()
    caches = _Item()
    stdin = sys.stdin.buffer
    while (handoff := read_frame(stdin)) is not None:
        code, record, writes = run_one(caches, handoff)
        sys.stdout.flush()
        sys.stderr.flush()
        write_frame(options.result_fd, {"exit_code": int(code), "result": record, "writes": writes})
    return 0


if __name__ == "__main__":
    sys.exit(main())
