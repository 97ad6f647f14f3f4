"""``osirix-tasks db studies | series [STUDY]``: the database as the browser lists it, with UIDs."""

from __future__ import annotations

import click

from ._common import emit_json

SERVER_HELP = (
    "OsiriX server: PORT or 127.0.0.1:PORT (default: $OSIRIX_TASKS_SERVER, else the last active server of "
    "server_configs.json, as pyosirix chooses)."
)


@click.group()
def db() -> None:
    """List the database of a running OsiriX (real or embedded)."""


@db.command()
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def studies(server: str | None, as_json: bool) -> None:
    """Every study: patient, description, date, modalities, series and images, StudyInstanceUID."""
    from ..client import Connection
    from ..client.db_listing import list_studies

    with Connection(server) as connection:
        found = list_studies(connection)
    if as_json:
        emit_json([s.to_json() for s in found])
        return
    if not found:
        click.echo("No studies.")
        return
    for study in found:
        click.secho(f"{study.patient_name or '(no name)'}  {study.description}", bold=True)
        click.echo(
            f"  {study.date or 'no date'}  {study.modalities}  {study.series} series, {study.images} images  "
            f"ID {study.patient_id or '-'}"
        )
        click.echo(f"  StudyInstanceUID {study.study_instance_uid}")


@db.command()
@click.argument("study_uid", required=False)
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def series(study_uid: str | None, server: str | None, as_json: bool) -> None:
    """The series of STUDY_UID (a StudyInstanceUID), or of every study, with their SeriesInstanceUIDs."""
    from ..client import Connection
    from ..client.db_listing import list_series

    with Connection(server) as connection:
        found = list_series(connection, study_uid)
    if as_json:
        emit_json([s.to_json() for s in found])
        return
    if not found:
        click.echo("No series.")
        return
    for item in found:
        click.secho(f"{item.description or '(no description)'}  {item.modality}  {item.images} images", bold=True)
        click.echo(f"  {item.patient_name or '(no name)'}  {item.date or 'no date'}  study {item.study_instance_uid}")
        click.echo(f"  SeriesInstanceUID {item.series_instance_uid}")
