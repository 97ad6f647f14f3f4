"""``osirix-tasks new-pack``: a pip-installable task pack from the ``pack/`` template.

Every file of the template ends in ``.tmpl`` (so no tool mistakes it for code of ours) and is
filled with :class:`string.Template` (``${dist}``, ``${package}``, ``${title}``, ``${entry}``,
``${osirix_tasks_version}``); a ``__package__`` path part becomes the package name.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from .. import __version__
from ..errors import OsirixTasksError

__all__ = ["PackNames", "pack_names", "create_pack", "template_files"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*$")
_SUFFIX = ".tmpl"


@dataclass(frozen=True)
class PackNames:
    """The names one pack name gives: distribution, import package, entry point, title."""

    dist: str
    package: str
    entry: str
    title: str


def pack_names(name: str) -> PackNames:
    """The names for ``name`` (letters, digits, single ``-``, ``_`` or ``.`` between them)."""
    if not _NAME.match(name):
        raise OsirixTasksError(
            f"pack name {name!r}: use letters and digits, with single '-', '_' or '.' between them, starting "
            "with a letter (e.g. lung-tools)"
        )
    package = re.sub(r"[-.]", "_", name).lower()
    if keyword.iskeyword(package) or package in ("osirix_tasks", "osirix", "osirixgrpc", "tests", "test"):
        raise OsirixTasksError(f"pack name {name!r}: its package would be {package!r}, which is taken - choose another")
    words = re.split(r"[-_.]", name)
    title = " ".join(words)
    title = title[0].upper() + title[1:]
    return PackNames(dist=name.lower(), package=package, entry=package, title=title)


def template_files(root: Traversable | None = None, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """Every template file as (path parts under ``pack/``, text), sorted."""
    root = root if root is not None else resources.files(__package__).joinpath("pack")
    found = []
    for child in sorted(root.iterdir(), key=lambda c: c.name):
        if child.is_dir():
            if child.name != "__pycache__":
                found.extend(template_files(child, (*prefix, child.name)))
        elif child.name.endswith(_SUFFIX):
            found.append(((*prefix, child.name), child.read_text(encoding="utf-8")))
    return found


def create_pack(name: str, parent: Path) -> Path:
    """Write the pack ``name`` into ``parent/name`` (which must not exist or be empty); its folder."""
    names = pack_names(name)
    target = parent / name
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise OsirixTasksError(f"{target} already exists and is not empty - choose another name or --dir")
    values = {
        "dist": names.dist,
        "package": names.package,
        "entry": names.entry,
        "title": names.title,
        "osirix_tasks_version": __version__,
    }
    files = template_files()
    if not files:
        raise OsirixTasksError("the pack template is missing from this installation of osirix-tasks - reinstall it")
    for parts, text in files:
        relative = [names.package if p == "__package__" else p for p in parts]
        relative[-1] = relative[-1][: -len(_SUFFIX)].replace("__package__", names.package)
        path = target.joinpath(*relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template(text).substitute(values), encoding="utf-8")
    return target
