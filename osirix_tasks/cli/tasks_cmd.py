"""``osirix-tasks tasks ...``: list, show, add, remove, validate, import/export OsiriXgrpc's script_configs.json."""

from __future__ import annotations

from pathlib import Path

import click

from ..model import TaskType
from ._common import TASK_TYPE, AppState, emit_json, fail, pass_state, warning


@click.group()
def tasks() -> None:
    """Manage the task registry (tasks.toml)."""


@tasks.command("list")
@click.option("--type", "kind", type=TASK_TYPE, default=None, help="Only tasks of this type.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def list_tasks(state: AppState, kind: TaskType | None, as_json: bool) -> None:
    """List every task: registry entries, builtins, modules, local plugins and packs."""
    catalog = state.catalog()
    entries = catalog.of_type(kind) if kind else catalog.entries
    if as_json:
        emit_json([e.to_json() for e in entries])
        return
    missing = "" if state.registry_path.exists() else " (no such file: none of its own tasks)"
    click.echo(f"Registry: {state.registry_path}{missing}")
    _say_where_hosts_differ(state.registry_path)
    if not entries:
        click.echo("No tasks.")
        return
    width = max(len(e.spec.name) for e in entries)
    for entry in entries:
        flag = " [blocking]" if entry.spec.blocking else ""
        click.echo(f"{entry.spec.name:<{width}}  {entry.spec.type.value:<12}  {entry.origin}{flag}")


def _say_where_hosts_differ(registry: Path) -> None:
    """A note for each running host that offers another registry than this command reads."""
    from ..host.control import live_hosts

    for info in live_hosts():
        if info.registry and Path(info.registry) != registry:
            click.echo(
                f"note: the embedded OsiriX (pid {info.pid}) offers the tasks of {info.registry} on its page; "
                "this list is of the registry above (choose one with --registry)",
                err=True,
            )


@tasks.command("show")
@click.argument("name")
@click.option("--type", "kind", type=TASK_TYPE, default=None, help="The task's type, if the name is ambiguous.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def show(state: AppState, name: str, kind: TaskType | None, as_json: bool) -> None:
    """Show every field of one task."""
    found = state.catalog(warn=False).find(name, kind)
    if not found:
        fail(
            f"no task named {name!r}" + (f" of type {kind.value}" if kind else "") + " - see 'osirix-tasks tasks list'"
        )
    if len(found) > 1 and not as_json:
        fail(
            f"{len(found)} tasks are named {name!r} (" + ", ".join(e.spec.type.value for e in found) + ") - add --type"
        )
    if as_json:
        emit_json([e.to_json() for e in found])
        return
    for key, value in found[0].to_json().items():
        click.echo(f"{key:<12} {value}")


@tasks.command("add")
@click.argument("target", metavar="PATH[:FUNCTION]")
@click.option(
    "--type",
    "kind",
    type=TASK_TYPE,
    default=None,
    help="Database, Image, VRController or ROI (a script needs it; a decorated function has its own).",
)
@click.option("--name", default=None, help="Menu name (default: the function's or the file's name).")
@click.option("--interpreter", default=None, help="Absolute path of the Python to run it with.")
@click.option("--blocking/--no-blocking", default=None, help="OsiriX waits for it to finish.")
@click.option("--description", default=None, help="One line shown with the task.")
@click.option("--timeout", type=float, default=None, help="Seconds after which a run is stopped.")
@pass_state
def add(
    state: AppState,
    target: str,
    kind: TaskType | None,
    name: str | None,
    interpreter: str | None,
    blocking: bool | None,
    description: str | None,
    timeout: float | None,
) -> None:
    """Register the script PATH, or the @osirix_task functions of the file PATH (PATH:FUNCTION: that one)."""
    from ..registry import add_tasks
    from ..registry.add_path import specs_to_add

    specs = specs_to_add(
        target,
        kind=kind,
        name=name,
        interpreter=interpreter,
        blocking=blocking,
        description=description,
        timeout=timeout,
    )
    catalog = state.catalog(warn=False)
    for spec in specs:
        clash = [e for e in catalog.find(spec.name, spec.type) if not e.origin.startswith(state.registry_path.name)]
        if clash:
            fail(
                f"task '{spec.name}' ({spec.type.value}) is already provided by {clash[0].origin} - choose another "
                "--name"
            )
    add_tasks(state.registry_path, specs)
    for spec in specs:
        what = "" if spec.is_script else f" (the function {spec.location.rsplit(':', 1)[1]})"
        click.echo(f"Added '{spec.name}' ({spec.type.value}){what} to {state.registry_path}")


@tasks.command("remove")
@click.argument("name")
@click.option("--type", "kind", type=TASK_TYPE, default=None, help="The task's type, if the name is ambiguous.")
@pass_state
def remove(state: AppState, name: str, kind: TaskType | None) -> None:
    """Remove a task from the registry (the file keeps its other entries and comments)."""
    from ..registry import remove_task

    removed = remove_task(state.registry_path, name, kind)
    click.echo(f"Removed '{name}' ({removed.get('type')}) from {state.registry_path}")


@tasks.command("validate")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def validate(state: AppState, as_json: bool) -> None:
    """Check the registry and every task source; exit 1 if anything is wrong."""
    catalog = state.catalog(warn=False)
    if state.registry_named and not state.registry_path.exists():
        catalog.problems.insert(
            0,
            f"{state.registry_path}: no such file - the registry you named does not exist (an empty one was used); "
            "fix the path, or create it with 'osirix-tasks tasks add'",
        )
    from ..registry.privacy import exposed_secrets

    warnings = exposed_secrets(catalog.registry)
    if as_json:
        emit_json(
            {
                "registry": str(state.registry_path),
                "tasks": len(catalog.entries),
                "problems": catalog.problems,
                "warnings": warnings,
            }
        )
    else:
        for message in warnings:
            warning(message)
        for problem in catalog.problems:
            click.echo(click.style("error: ", fg="red") + problem, err=True)
        if not catalog.problems:
            click.echo(f"{state.registry_path}: OK, {len(catalog.entries)} tasks")
    if catalog.problems:
        raise SystemExit(1)


@tasks.command("import-scripts")
@click.argument("file", type=click.Path(dir_okay=False))
@pass_state
def import_scripts(state: AppState, file: str) -> None:
    """Add the scripts of OsiriXgrpc's script_configs.json FILE to the registry."""
    from ..registry import add_tasks
    from ..registry.script_configs import read_script_configs

    specs = read_script_configs(file)
    add_tasks(state.registry_path, specs)
    click.echo(f"Imported {len(specs)} task(s) from {file} into {state.registry_path}")


@tasks.command("export-scripts")
@click.argument("file", type=click.Path(dir_okay=False))
@pass_state
def export_scripts(state: AppState, file: str) -> None:
    """Write the registry's script tasks to FILE in OsiriXgrpc's script_configs.json format."""
    from ..registry import load_registry
    from ..registry.script_configs import export_script_configs
    from ..registry.source import read_source

    registry = load_registry(state.registry_path, strict=False)
    read_source(state.registry_path)  # a registry that cannot be parsed exports nothing: the error says why
    for problem in registry.problems:
        warning(f"{problem} (entry not exported)")
    for spec in registry.tasks:
        if not spec.is_script:
            warning(
                f"task '{spec.name}' ({spec.type.value}) not exported: it is a decorated function ({spec.location}), "
                "and OsiriXgrpc's script_configs.json lists script files only - run it with osirix-tasks"
            )
    count = export_script_configs(registry, Path(file))
    click.echo(f"Exported {count} task(s) to {file}")


@tasks.command("restore")
@pass_state
def restore(state: AppState) -> None:
    """Put tasks.toml.bak (the version before the last change) back in place of tasks.toml."""
    from .._support.atomic import restore_backup
    from ..registry.source import read_source

    backup = state.registry_path.with_name(state.registry_path.name + ".bak")
    read_source(backup)  # the backup must at least parse
    broken = restore_backup(state.registry_path)
    click.echo(f"Restored {state.registry_path} from {backup.name}; the replaced file is kept as {broken.name}")


# The names of the first release, kept working (hidden from --help).
for _old_name, _command in (("import-plugin", import_scripts), ("export-plugin", export_scripts)):
    tasks.add_command(
        click.Command(_old_name, callback=_command.callback, params=_command.params, help=_command.help, hidden=True)
    )
