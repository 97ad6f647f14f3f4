"""``osirix-tasks dicom nodes|echo|find|get|move|send``: talk to the DICOM nodes named in tasks.toml."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ._common import AppState, emit_json, pass_state

if TYPE_CHECKING:
    from ..dicomnode.scu import Outcome
    from ..model import DicomSettings, RemoteNode

LEVELS = click.Choice(["patient", "study", "series", "image"], case_sensitive=False)
KEY_HELP = "A key to match, KEYWORD=VALUE (repeatable), e.g. -k PatientID=123 -k StudyDate=20240101-20241231."
DATABASE_HELP = "Database folder (default: the per-user data folder)."


def _settings(state: AppState) -> DicomSettings:
    from ..dicomnode.settings import load_dicom_settings

    return load_dicom_settings(state.registry_path)


def _node(state: AppState, name: str) -> tuple[DicomSettings, RemoteNode]:
    from ..dicomnode.settings import remote_node

    settings = _settings(state)
    return settings, remote_node(settings, name)


def _keys(keys: tuple[str, ...]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in keys:
        keyword, sep, value = item.partition("=")
        if not sep or not keyword.strip():
            raise click.BadParameter(f"{item!r} is not KEYWORD=VALUE", param_hint="-k")
        parsed[keyword.strip()] = value.strip()
    return parsed


def _database(database: str | None) -> Path:
    from ..host.config import database_folder

    return database_folder(database)


def _print_outcome(outcome: Outcome, as_json: bool) -> None:
    if as_json:
        emit_json(outcome.to_json())
    else:
        click.echo(str(outcome))
    if outcome.failed:
        raise SystemExit(1)


@click.group()
def dicom() -> None:
    """Query, retrieve from and send to the DICOM nodes of tasks.toml ([[dicom.node]])."""


@dicom.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def nodes(state: AppState, as_json: bool) -> None:
    """This host's node settings and the remote nodes it knows."""
    settings = _settings(state)
    if as_json:
        emit_json(settings.model_dump(mode="json"))
        return
    where = f"{settings.address}:{settings.port}" if settings.port is not None else "not listening (no [dicom] port)"
    click.echo(f"This node: {settings.ae_title} at {where}")
    for node in settings.node:
        click.echo(f"  {node.name}: {node.ae_title} at {node.host}:{node.port}")
    if not settings.node:
        click.echo("No remote nodes - add [[dicom.node]] entries (name, ae_title, host, port) to tasks.toml.")


@dicom.command()
@click.argument("node")
@pass_state
def echo(state: AppState, node: str) -> None:
    """C-ECHO the node NODE (its name in tasks.toml)."""
    from ..dicomnode.scu import echo as do_echo

    settings, remote = _node(state, node)
    seconds = do_echo(settings.ae_title, remote)
    click.echo(f"{remote.name} ({remote.ae_title} at {remote.host}:{remote.port}) answered in {seconds * 1000:.0f} ms")


@dicom.command()
@click.argument("node")
@click.option("--level", type=LEVELS, default="study", show_default=True, help="What to list.")
@click.option("-k", "--key", "keys", multiple=True, help=KEY_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def find(state: AppState, node: str, level: str, keys: tuple[str, ...], as_json: bool) -> None:
    """C-FIND on NODE: the patients, studies, series or images that match."""
    from ..dicomnode.scu import find as do_find

    settings, remote = _node(state, node)
    found = do_find(settings.ae_title, remote, level, _keys(keys))
    if as_json:
        emit_json(found)
        return
    if not found:
        click.echo("No matches.")
    for item in found:
        shown = {k: "\\".join(v) if isinstance(v, list) else v for k, v in item.items() if v}
        click.echo("  ".join(f"{k}={v}" for k, v in shown.items()))


@dicom.command()
@click.argument("node")
@click.option("--level", type=LEVELS, default="study", show_default=True, help="What the keys name.")
@click.option("-k", "--key", "keys", multiple=True, required=True, help=KEY_HELP)
@click.option("--database", default=None, help=DATABASE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def get(state: AppState, node: str, level: str, keys: tuple[str, ...], database: str | None, as_json: bool) -> None:
    """C-GET from NODE into the database (a running host shows it at once)."""
    from ..dicomnode.scu import get as do_get
    from ..emulator.database.index import Database

    settings, remote = _node(state, node)
    db = Database(_database(database))
    try:
        outcome = do_get(settings.ae_title, remote, level, _keys(keys), db)
    finally:
        db.close()
    _print_outcome(outcome, as_json)


@dicom.command()
@click.argument("node")
@click.option("--level", type=LEVELS, default="study", show_default=True, help="What the keys name.")
@click.option("-k", "--key", "keys", multiple=True, required=True, help=KEY_HELP)
@click.option("--to", "destination", default=None, help="AE title to send to (default: this host's node).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def move(state: AppState, node: str, level: str, keys: tuple[str, ...], destination: str | None, as_json: bool) -> None:
    """C-MOVE: ask NODE to send what matches to an AE title (by default this host's node)."""
    from ..dicomnode.scu import move as do_move

    settings, remote = _node(state, node)
    outcome = do_move(settings.ae_title, remote, level, _keys(keys), destination or settings.ae_title)
    _print_outcome(outcome, as_json)


@dicom.command()
@click.argument("node")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=True))
@click.option("--study", default=None, help="Send this study of the database (StudyInstanceUID).")
@click.option("--series", default=None, help="Send this series of the database (SeriesInstanceUID).")
@click.option("--modality", "modalities", multiple=True, help="Only its series of this modality (repeatable: SEG, SR).")
@click.option("--database", default=None, help=DATABASE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def send(
    state: AppState,
    node: str,
    paths: tuple[str, ...],
    study: str | None,
    series: str | None,
    modalities: tuple[str, ...],
    database: str | None,
    as_json: bool,
) -> None:
    """C-STORE to NODE: files or folders, or a study or series of the database (e.g. a task's SEG/SR)."""
    from ..dicomnode.query import files_to_send
    from ..dicomnode.scu import send as do_send
    from ..emulator.database.importer import find_files
    from ..emulator.database.index import Database

    settings, remote = _node(state, node)
    files = find_files(paths) if paths else []
    if study or series or modalities:
        db = Database(_database(database))
        try:
            files += files_to_send(db, study=study, series=series, modalities=list(modalities))
        finally:
            db.close()
    if not files:
        raise click.UsageError("give files or folders, or --study / --series of the database")
    _print_outcome(do_send(settings.ae_title, remote, files), as_json)
