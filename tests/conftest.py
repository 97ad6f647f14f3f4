"""Shared fixtures: an isolated HOME, the CLI in-process, temporary projects, real embedded hosts.

Helpers live in :mod:`osirix_tasks.testing` (the kit pack authors use too); test modules never
import from each other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from osirix_tasks.cli import cli
from osirix_tasks.client.server_configs import free_port
from osirix_tasks.testing import Project, RunningHost, running_host

REPO = Path(__file__).resolve().parent.parent
SHARED_PHANTOM = REPO.parent / "shared" / "data" / "mr-phantom"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HOME, config and data dirs: nothing touches the real user's."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("OSIRIX_TASKS_HOME", str(home))
    monkeypatch.delenv("OSIRIX_TASKS_REGISTRY", raising=False)
    monkeypatch.delenv("OSIRIX_TASKS_SERVER", raising=False)
    return home


#: What a database, a run store or a DICOM node leaves in a folder: none of it may appear in the checkout.
_DATA_FILES = ("index.sqlite*", ".in-use-*", "DATABASE.noindex", "incoming.noindex", "runs.sqlite*")


def _data_files_in_checkout() -> set[Path]:
    """Database files in the checkout's root, tests/, osirix_tasks/ and benchmarks/ (not in .venv)."""
    found = {p for pattern in _DATA_FILES for p in REPO.glob(pattern)}
    for folder in ("tests", "osirix_tasks", "benchmarks"):
        found |= {p for pattern in _DATA_FILES for p in (REPO / folder).rglob(pattern)}
    return found


@pytest.fixture(scope="session", autouse=True)
def checkout_stays_clean() -> Iterator[None]:
    """Tests write into temporary folders only: a database, run store or staging folder made in the
    checkout fails the run (.gitignore's lines for them are only a backstop)."""
    before = _data_files_in_checkout()
    yield
    made = sorted(str(p) for p in _data_files_in_checkout() - before)
    assert not made, f"the tests made database files in the checkout - make them in tmp_path: {made}"


@pytest.fixture
def repo_root() -> Path:
    """The checkout's root folder."""
    return REPO


@pytest.fixture(scope="session")
def phantom_dir() -> Path:
    """The real MR phantom (40 sagittal slices) beside the checkout; the test is skipped without it."""
    if not SHARED_PHANTOM.is_dir():
        pytest.skip(f"the MR phantom is not at {SHARED_PHANTOM}")
    return SHARED_PHANTOM


@pytest.fixture(scope="session")
def phantom_planes(phantom_dir: Path) -> list[Any]:
    """The phantom's files read with pydicom, in OsiriX's plane order: ascending along the slice normal
    (row direction x column direction = -x for this sagittal series), so descending x."""
    import pydicom

    files = [pydicom.dcmread(p) for p in phantom_dir.glob("*.dcm")]
    return sorted(files, key=lambda d: -float(d.ImagePositionPatient[0]))


@pytest.fixture
def script(tmp_path: Path) -> Path:
    """A real Python script file."""
    path = tmp_path / "scripts" / "measure_it.py"
    path.parent.mkdir()
    path.write_text("print('measured')\n")
    return path


@pytest.fixture
def runner() -> CliRunner:
    """Click's runner for the CLI in this process."""
    return CliRunner()


@pytest.fixture
def invoke(runner: CliRunner) -> Callable[..., Result]:
    """``invoke(registry, *args)``: the real CLI in-process against ``registry``."""

    def call(registry: Path, *args: str) -> Result:
        return runner.invoke(cli, ["--registry", str(registry), *args], catch_exceptions=False)

    return call


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A temporary registry of script tasks with the CLI run against it (server: an unused port)."""
    return Project(tmp_path)


@pytest.fixture
def start_host(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Any]:
    """``with start_host(*serve_args, ports=..., home=...) as host``: a real host for one test."""

    def start(
        *args: str, ports: list[int] | None = None, home: Path | None = None, database: Path | None = None
    ) -> Any:
        return running_host(home or tmp_path_factory.mktemp("home"), *args, ports=ports, database=database)

    return start


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A real embedded OsiriX on the bundled demo data, shared by the tests of one module."""
    # ROIs in memory only: the module's tests each expect a viewer to open without the others' ROIs.
    with running_host(tmp_path_factory.mktemp("home"), "--demo", "--no-save-rois") as host:
        yield host


@pytest.fixture(scope="module")
def phantom_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHost]:
    """A real embedded OsiriX that imported the MR phantom, on two ports, shared by one module."""
    if not SHARED_PHANTOM.is_dir():
        pytest.skip(f"the MR phantom is not at {SHARED_PHANTOM}")
    home = tmp_path_factory.mktemp("home")
    ports = [free_port(), free_port()]
    with running_host(home, "--empty", "--import", str(SHARED_PHANTOM), "--no-save-rois", ports=ports) as host:
        yield host
