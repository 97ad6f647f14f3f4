"""``osirix-tasks new-pack NAME``: start a pip-installable task pack, with tests, from the template."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click


@click.command("new-pack")
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False),
    default=".",
    show_default=True,
    help="Create the pack's folder (NAME) in this folder.",
)
def new_pack(name: str, parent: str) -> None:
    """Create a pip-installable task pack NAME, with one task of each type and its tests.

    The pack has a pyproject.toml with the osirix_tasks entry point, a task per type, tests using the
    osirix-tasks pytest fixtures, and a README.
    """
    from ..templates.newpack import create_pack, pack_names

    folder = create_pack(name, Path(parent))
    names = pack_names(name)
    click.echo(f"Created {folder} (package {names.package}, tasks '{names.title}: ...'). Next:")
    python = shlex.quote(sys.executable)  # the environment that has osirix-tasks, activated or not
    click.echo(f"  cd {shlex.quote(str(folder))}")
    click.echo(f"  {python} -m pip install -e '.[test]'    # into the environment that has osirix-tasks")
    click.echo(f"  {python} -m pytest                      # its tests, against an embedded OsiriX")
    click.echo(f"  {python} -m osirix_tasks menu           # its four tasks in OsiriX's menus")
