"""Shared pieces of the CLI: the selected registry, output helpers, error reporting."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from ..contract import Env
from ..errors import OsirixTasksError

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..model import TaskType
    from ..registry import Registry


class AppState:
    """What the top-level options chose; commands load what they need from it lazily."""

    def __init__(self, registry: str | None):
        from .._support.paths import registry_path  # platformdirs: not needed for --help

        self.registry_path: Path = registry_path(registry)
        #: Whether the user named the registry (--registry or $OSIRIX_TASKS_REGISTRY), rather than the default.
        self.registry_named = bool(registry or os.environ.get(Env.REGISTRY))

    def registry(self) -> Registry:
        """The registry, with its problems collected (a syntax error raises RegistryError)."""
        from ..registry import load_registry

        return load_registry(self.registry_path)

    def catalog(self, *, warn: bool = True) -> Catalog:
        """Every known task; problems go to stderr as warnings when ``warn``."""
        from ..catalog import build_catalog

        catalog = build_catalog(self.registry())
        if warn:
            for problem in catalog.problems:
                warning(problem)
        return catalog


pass_state = click.make_pass_decorator(AppState)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2))


def warning(message: str) -> None:
    """A warning on stderr, in yellow on a terminal."""
    click.echo(click.style("warning: ", fg="yellow") + message, err=True)


def report_error(exc: OsirixTasksError) -> None:
    """Each line of an error's message on stderr as ``error: ...``, in red on a terminal."""
    for line in str(exc).splitlines() or [type(exc).__name__]:
        click.echo(click.style("error: ", fg="red") + line, err=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """An error on stderr, in red on a terminal, and exit with ``code`` (for usage problems the
    CLI itself finds; errors of the modules it calls are raised and reported in one place)."""
    click.echo(click.style("error: ", fg="red") + message, err=True)
    sys.exit(code)


class TaskTypeParam(click.ParamType):
    """A task type in any accepted spelling."""

    name = "type"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> TaskType:
        from ..model import TaskType

        try:
            return TaskType.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TASK_TYPE = TaskTypeParam()


def image_option(what: str = "the displayed one") -> Any:
    """``--slice N``: an image number as OsiriX shows it, 1 = the first, the one convention of every
    command (the protocol's index is N - 1: :func:`image_index`)."""
    return click.option(
        "--slice",
        "slice_",
        type=click.IntRange(min=1),
        default=None,
        help=f"Image number as OsiriX shows it, 1 = the first (default: {what}).",
    )


def image_index(number: int | None) -> int | None:
    """The protocol's 0-based index of an image number from :func:`image_option` (None stays None)."""
    return None if number is None else number - 1
