"""The ``osirix-tasks`` command line: parsing only; the work is done by the modules it calls.

Subcommands are imported when used, so ``osirix-tasks run`` does not pay for the server's or
the client's imports (start-up time is measured in benchmarks/bench_runner.py). Every error a
user can cause is an :class:`~osirix_tasks.errors.OsirixTasksError`; it is caught here, in one
place, and printed as ``error: <message>``.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from .. import __version__
from ..errors import OsirixTasksError
from ._common import AppState, report_error

__all__ = ["main", "cli"]

#: command name -> "module:attribute" under osirix_tasks.cli
COMMANDS = {
    "tasks": "tasks_cmd:tasks",
    "menu": "menu_cmd:menu",
    "run": "run_cmd:run",
    "cancel": "run_cmd:cancel",
    "runs": "console_cmd:runs",
    "console": "console_cmd:console",
    "demo": "demo_cmd:demo",
    "serve": "serve_cmd:serve",
    "import": "serve_cmd:import_",
    "servers": "servers_cmd:servers",
    "select": "host_cmd:select",
    "open": "host_cmd:open_",
    "db": "db_cmd:db",
    "roi": "roi_cmd:roi",
    "interpreters": "interpreters_cmd:interpreters",
    "new-pack": "newpack_cmd:new_pack",
    "ui": "ui_cmd:ui",
    "batch": "batch_cmd:batch",
    "dicom": "dicom_cmd:dicom",
}


#: command name -> the first line of its help, for ``--help`` without importing every command
#: (a test checks each against the command's own docstring).
SUMMARIES = {
    "tasks": "Manage the task registry (tasks.toml).",
    "menu": 'Show the "gRPC Tasks" menus as OsiriX\'s toolbars group them.',
    "run": "Run the task NAME (arguments after -- go to the task).",
    "cancel": "Stop a run and everything it started (SIGTERM, then SIGKILL after the grace period).",
    "runs": "The run history: status, exit code, duration.",
    "console": "Show a run's output (the latest run by default): stdout, stderr in red.",
    "demo": "Start the embedded OsiriX with demo data and run one builtin task of each type on it.",
    "serve": "Run an embedded OsiriX: the OsiriXgrpc protocol over a DICOM database, and its web UI.",
    "import": "Import DICOM files and folders into the database.",
    "servers": "Configure the OsiriXgrpc servers (server_configs.json, in the plugin's format).",
    "select": "Set the browser selection, or the selected ROIs, in the running embedded OsiriX.",
    "open": "Open a 2D viewer on a series in the running embedded OsiriX (it becomes frontmost), and/or a 3D window.",
    "db": "List the database of a running OsiriX (real or embedded).",
    "roi": "List, draw, select and delete ROIs of the frontmost 2D viewer.",
    "interpreters": "The Python interpreters of the registry's tasks, and installing osirix-tasks into one.",
    "new-pack": "Create a pip-installable task pack NAME, with one task of each type and its tests.",
    "ui": "Open the web UI of the running embedded OsiriX (starting one in the background if none runs).",
    "batch": "Run a task over many studies or series (a Dask cluster), with progress, resume and a results table.",
    "dicom": "Query, retrieve from and send to the DICOM nodes of tasks.toml ([[dicom.node]]).",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, and that reports our errors."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            summary = SUMMARIES.get(name)
            if summary is None:
                command = self.get_command(ctx, name)
                summary = command.get_short_help_str(formatter.width) if command is not None else ""
            rows.append((name, summary))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        module = importlib.import_module(f"{__name__}.{module_name}")
        command: Any = getattr(module, attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OsirixTasksError as exc:
            report_error(exc)
            ctx.exit(exc.exit_code)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--registry",
    type=click.Path(dir_okay=False),
    default=None,
    help="tasks.toml to use (default: $OSIRIX_TASKS_REGISTRY, ./tasks.toml, the user config dir).",
)
@click.version_option(version=__version__, prog_name="osirix-tasks")
@click.pass_context
def cli(ctx: click.Context, registry: str | None) -> None:
    """Write, share, run and test scripts for the OsiriX DICOM viewer."""
    ctx.obj = AppState(registry)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="osirix-tasks")
