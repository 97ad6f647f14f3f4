"""Shared pieces of the CLI: the selected registry, output helpers, error reporting."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from .._paths import registry_path
from ..catalog import Catalog, build_catalog
from ..model import TaskType
from ..registry import Registry, RegistryError, load_registry


class AppState:
    """What the top-level options chose; commands load what they need from it lazily."""

    def __init__(self, registry: str | None):
        self.registry_path: Path = registry_path(registry)

    def registry(self) -> Registry:
        """The registry, with its problems collected (a syntax error exits)."""
        try:
            return load_registry(self.registry_path)
        except RegistryError as exc:
            fail_problems(exc)

    def catalog(self, *, warn: bool = True) -> Catalog:
        """Every known task; problems go to stderr as warnings when ``warn``."""
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


def fail(message: str, code: int = 1) -> NoReturn:
    """An error on stderr, in red on a terminal, and exit with ``code``."""
    click.echo(click.style("error: ", fg="red") + message, err=True)
    sys.exit(code)


def fail_problems(exc: RegistryError, code: int = 1) -> NoReturn:
    """Every problem of a RegistryError on stderr, then exit."""
    for problem in exc.problems:
        click.echo(click.style("error: ", fg="red") + str(problem), err=True)
    sys.exit(code)


class TaskTypeParam(click.ParamType):
    """A task type in any accepted spelling."""

    name = "type"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> TaskType:
        try:
            return TaskType.parse(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TASK_TYPE = TaskTypeParam()
