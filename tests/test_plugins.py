"""Task packs: pip-install the example pack (and a broken one) into a fresh virtual environment."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

from osirix_tasks.testing.venvs import overlay_venv, pip_install_local

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pack_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv that sees this environment's packages (osirix-tasks and its dependencies)
    through a .pth file, with the example pack and a broken pack pip-installed into it."""
    env_dir = tmp_path_factory.mktemp("packenv") / "venv"
    python = overlay_venv(env_dir)
    broken = tmp_path_factory.mktemp("broken-pack")
    (broken / "pyproject.toml").write_text(
        textwrap.dedent("""
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
        [project]
        name = "osirix-tasks-broken"
        version = "0.0.1"
        [project.entry-points.osirix_tasks]
        broken = "osirix_tasks_broken"
        [tool.setuptools]
        py-modules = ["osirix_tasks_broken"]
    """)
    )
    (broken / "osirix_tasks_broken.py").write_text("raise ImportError('this pack is broken on purpose')\n")
    for source in (REPO / "plugins" / "example-pack", broken):
        pip_install_local(python, source)
    return env_dir


def _cli(env_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "osirix_tasks", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_installed_pack_tasks_are_listed_and_in_menus(pack_env: Path, tmp_path: Path) -> None:
    listing = _cli(pack_env, tmp_path, "tasks", "list", "--json")
    assert listing.returncode == 0, listing.stderr
    entries = {e["name"]: e for e in json.loads(listing.stdout)}
    assert entries["Invert window"]["origin"] == "pack osirix-tasks-example"
    assert entries["Invert window"]["type"] == "Image"
    assert entries["Invert window"]["location"] == "osirix_tasks_example.tasks:invert"
    assert entries["Count studies"]["type"] == "Database"
    assert "Gaussian smooth" in entries  # builtins still there
    assert (
        "pack 'osirix-tasks-broken' (entry point broken = osirix_tasks_broken): cannot be loaded: "
        "ImportError: this pack is broken on purpose - skipped" in listing.stderr
    )

    menu = _cli(pack_env, tmp_path, "menu")
    assert menu.returncode == 0
    image_filter = menu.stdout.split("Image Filter")[1].split("ROI Filter")[0]
    assert re.search(r"Invert window +from pack osirix-tasks-example", image_filter)


def test_a_pack_can_be_disabled(pack_env: Path, tmp_path: Path) -> None:
    (tmp_path / "tasks.toml").write_text('[settings]\ndisabled_packs = ["osirix-tasks-example", "broken"]\n')
    listing = _cli(pack_env, tmp_path, "tasks", "list", "--json")
    names = {e["name"] for e in json.loads(listing.stdout)}
    assert "Invert window" not in names and "Gaussian smooth" in names
    assert listing.stderr == ""
