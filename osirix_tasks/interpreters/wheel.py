"""Pack the running osirix-tasks as a wheel, from the files it runs from (PEP 427).

osirix-tasks is not on a public index, so another environment gets it as a wheel built from this
installation: the package folder as imported (a regular or an editable install alike) and the
installed distribution's metadata (its dependencies and entry points).
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from importlib import metadata
from pathlib import Path

from ..errors import OsirixTasksError

__all__ = ["build_wheel", "DISTRIBUTION", "wheel_files"]

DISTRIBUTION = "osirix-tasks"
_PACKAGE = "osirix_tasks"
_SKIP_DIRS = {"__pycache__"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"sha256={digest}"


def wheel_files(package_dir: Path) -> list[Path]:
    """The files of the package as it runs (caches left out), sorted."""
    found = []
    for path in sorted(package_dir.rglob("*")):
        relative = path.relative_to(package_dir)
        if path.is_file() and not (_SKIP_DIRS & set(relative.parts)) and path.suffix not in _SKIP_SUFFIXES:
            found.append(path)
    return found


def build_wheel(destination: Path) -> Path:
    """Write ``osirix_tasks-VERSION-py3-none-any.whl`` into ``destination`` and return its path."""
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise OsirixTasksError(
            "osirix-tasks runs from a folder that is not installed (no distribution metadata) - "
            "pip install it (pip install -e CHECKOUT) before installing it elsewhere"
        ) from None
    meta = dist.read_text("METADATA") or dist.read_text("PKG-INFO")  # a wheel install, or an .egg-info
    if not meta:
        raise OsirixTasksError(f"the installed {DISTRIBUTION} has no METADATA - reinstall it")
    import osirix_tasks

    package_dir = Path(osirix_tasks.__file__).resolve().parent
    version = dist.version
    info = f"{_PACKAGE}-{version}.dist-info"
    destination.mkdir(parents=True, exist_ok=True)
    target = destination / f"{_PACKAGE}-{version}-py3-none-any.whl"
    members: list[tuple[str, bytes]] = [
        (f"{_PACKAGE}/{p.relative_to(package_dir).as_posix()}", p.read_bytes()) for p in wheel_files(package_dir)
    ]
    members.append((f"{info}/METADATA", meta.encode("utf-8")))
    members.append(
        (
            f"{info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: osirix-tasks\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
    )
    entry_points = dist.read_text("entry_points.txt")
    if entry_points:
        members.append((f"{info}/entry_points.txt", entry_points.encode("utf-8")))
    members.append((f"{info}/top_level.txt", f"{_PACKAGE}\n".encode()))
    record = "".join(f"{name},{_record_hash(data)},{len(data)}\n" for name, data in members)
    record += f"{info}/RECORD,,\n"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
        archive.writestr(f"{info}/RECORD", record)
    return target
