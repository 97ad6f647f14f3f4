"""The ``osirix-tasks`` command line: parsing only; the work is done by the modules it calls."""

from __future__ import annotations

import click

from . import console_cmd, demo_cmd, menu_cmd, run_cmd, serve_cmd, servers_cmd, tasks_cmd
from ._common import AppState

__all__ = ["main", "cli"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--registry",
    type=click.Path(dir_okay=False),
    default=None,
    help="tasks.toml to use (default: $OSIRIX_TASKS_REGISTRY, ./tasks.toml, the user config dir).",
)
@click.version_option(package_name="osirix-tasks")
@click.pass_context
def cli(ctx: click.Context, registry: str | None) -> None:
    """Write, share, run and test scripts for the OsiriX DICOM viewer."""
    ctx.obj = AppState(registry)


cli.add_command(tasks_cmd.tasks)
cli.add_command(menu_cmd.menu)
cli.add_command(serve_cmd.serve)
cli.add_command(serve_cmd.import_)
cli.add_command(servers_cmd.servers)
cli.add_command(servers_cmd.select)
cli.add_command(servers_cmd.open_)
cli.add_command(demo_cmd.demo)
cli.add_command(run_cmd.run)
cli.add_command(run_cmd.cancel)
cli.add_command(console_cmd.runs)
cli.add_command(console_cmd.console)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="osirix-tasks")
