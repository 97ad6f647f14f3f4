"""``osirix-tasks interpreters list | install PATH``: the Pythons tasks run with."""

from __future__ import annotations

import click

from .. import __version__
from ..errors import OsirixTasksError
from ._common import AppState, emit_json, pass_state, warning


@click.group()
def interpreters() -> None:
    """The Python interpreters of the registry's tasks, and installing osirix-tasks into one."""


def _yes(value: bool) -> str:
    return click.style("yes", fg="green") if value else click.style("no", fg="red")


@interpreters.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_(state: AppState, as_json: bool) -> None:
    """Every interpreter a task uses (and this one): can it run decorated tasks, osirix_tasks.context()?"""
    from ..interpreters.probe import interpreter_reports

    reports = interpreter_reports(state.catalog())
    if as_json:
        emit_json([r.to_json() for r in reports])
        return
    for report in reports:
        probe = report.probe
        click.secho(probe.interpreter, bold=True)
        if probe.problem is not None:
            click.echo(f"  {click.style('unusable', fg='red')}: {probe.problem}")
        else:
            here = probe.osirix_tasks or "not installed"
            if probe.osirix_tasks and probe.osirix_tasks != __version__:
                here += f" (this is {__version__})"
            click.echo(f"  Python {probe.python}, osirix-tasks {here}")
            click.echo(
                f"  decorated tasks: {_yes(probe.runs_decorated)}   osirix_tasks.context(): {_yes(probe.runs_context)}"
            )
            if not probe.runs_decorated and probe.decorated_problem:
                click.echo(f"  ({probe.decorated_problem})")
        click.echo(f"  tasks: {', '.join(report.tasks) if report.tasks else '(none: the default interpreter)'}")
        for problem in report.problems:
            warning(problem)


@interpreters.command("install")
@click.argument("path", type=click.Path())
@click.option("--extra", "extras", multiple=True, help="Also install this extra of osirix-tasks (e.g. test).")
def install(path: str, extras: tuple[str, ...]) -> None:
    """Install this osirix-tasks (as a wheel, with its dependencies) into PATH: a Python executable, or a
    venv / conda environment folder."""
    from ..interpreters.install import install_into
    from ..interpreters.probe import probe

    python = install_into(path, extras=extras, echo=lambda line: click.echo(click.style(line, dim=True), err=True))
    result = probe(str(python))
    if not result.runs_decorated:
        raise OsirixTasksError(f"installed, but {python} still cannot run decorated tasks: {result.decorated_problem}")
    click.echo(
        f"osirix-tasks {result.osirix_tasks} installed for {python} (Python {result.python}): "
        "it can run decorated tasks and osirix_tasks.context()"
    )
