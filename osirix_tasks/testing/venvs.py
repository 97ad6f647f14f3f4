"""Virtual environments for tests of packs and interpreters."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

__all__ = ["overlay_venv", "venv_python", "pip_install_local"]


def venv_python(env_dir: Path) -> Path:
    """The interpreter of a virtual environment."""
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def overlay_venv(env_dir: Path) -> Path:
    """A new venv (no pip) that also sees this environment's packages (osirix-tasks, its dependencies,
    pytest) through a .pth file: what is installed into it shadows nothing here. Returns its Python."""
    venv.EnvBuilder(with_pip=False).create(env_dir)
    site_packages = next((env_dir / "lib").glob("python3*/site-packages"))
    parents = [p for p in site.getsitepackages() if os.path.isdir(p)]
    (site_packages / "_parent_env.pth").write_text("".join(f"import site; site.addsitedir({p!r})\n" for p in parents))
    return venv_python(env_dir)


def pip_install_local(python: Path, source: Path) -> None:
    """pip-install the project at ``source`` into ``python``'s environment with this environment's pip,
    offline and without its dependencies (they are seen through the overlay)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pip could not install {source} into {python}:\n{done.stderr or done.stdout}")
