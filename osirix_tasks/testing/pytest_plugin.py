"""pytest fixtures for task authors: a real embedded OsiriX, a known state before each test, and the runner.

Installed with osirix-tasks and loaded by pytest on its own (entry point ``pytest11``), so a pack's
tests need no conftest. The fixtures:

``osirix``
    The session's embedded OsiriX (:class:`~osirix_tasks.testing.session.OsirixSession`), reset
    before the test: no viewer or 3D window open, no ROI, the browser selection as loaded. One host
    serves the whole session; a reset takes milliseconds.
``osirix_viewer``
    A 2D viewer open on the first series (the demo series by default), the middle slice displayed.
``osirix_roi``
    An oval ROI named ``osirix-tasks ROI`` over the middle half of that slice, selected.
``osirix_vr``
    A 3D window (VR) opened from that viewer.
``run_task``
    ``run_task(name, *args, type=None, timeout=120)``: run a task through the real runner against
    the session's OsiriX and get a :class:`~osirix_tasks.testing.tasks.TaskResult` (record, stdout,
    stderr, ``ok``).
``osirix_host``
    The same OsiriX without the reset (for session-wide set-up).

Options (command line, or ``[tool.pytest.ini_options]``): ``--osirix-data PATH`` / ``osirix_data``
(a DICOM file or folder to load instead of the demo series), ``--osirix-registry PATH`` /
``osirix_registry`` (the tasks.toml ``run_task`` reads; default: an empty one, so the builtin
tasks and every installed pack are there).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..contract import Target
    from .session import OsirixSession
    from .tasks import TaskResult

_DATA_HELP = "DICOM file or folder the embedded OsiriX of the osirix fixtures loads (default: the demo series)"
_REGISTRY_HELP = "tasks.toml the run_task fixture reads (default: an empty one: builtin tasks and installed packs)"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--osirix-data`` and ``--osirix-registry``, and their ini equivalents."""
    group = parser.getgroup("osirix-tasks", "osirix-tasks embedded OsiriX")
    group.addoption("--osirix-data", default=None, metavar="PATH", help=_DATA_HELP)
    group.addoption("--osirix-registry", default=None, metavar="PATH", help=_REGISTRY_HELP)
    parser.addini("osirix_data", _DATA_HELP + "; relative to the ini file", default=None)
    parser.addini("osirix_registry", _REGISTRY_HELP + "; relative to the ini file", default=None)


def _path_option(config: pytest.Config, name: str) -> Path | None:
    """The command-line value (relative to the working folder), else the ini value (relative to the ini file)."""
    given = config.getoption(f"--{name.replace('_', '-')}")
    if given:
        return Path(given).expanduser().absolute()
    value = config.getini(name)
    if not value:
        return None
    base = config.inipath.parent if config.inipath else config.rootpath
    return (base / str(value)).expanduser().absolute()


def pytest_configure(config: pytest.Config) -> None:
    """Refuse a data folder or registry that is not there before any test runs."""
    data = _path_option(config, "osirix_data")
    if data is not None and not data.exists():
        raise pytest.UsageError(
            f"--osirix-data / osirix_data: {data} does not exist - give a DICOM file or folder for the embedded OsiriX"
        )
    registry = _path_option(config, "osirix_registry")
    if registry is not None and not registry.is_file():
        raise pytest.UsageError(f"--osirix-registry / osirix_registry: {registry} is not a file - give a tasks.toml")


def pytest_report_header(config: pytest.Config) -> str:
    """Which data the osirix fixtures load."""
    data = _path_option(config, "osirix_data")
    return f"osirix-tasks: embedded OsiriX fixtures on {data or 'the demo series'}"


@pytest.fixture(scope="session")
def osirix_host(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OsirixSession]:
    """The session's embedded OsiriX, started on first use and stopped at the end (not reset)."""
    from .session import osirix_session

    with osirix_session(tmp_path_factory.mktemp("osirix-home"), _path_option(pytestconfig, "osirix_data")) as session:
        yield session


@pytest.fixture
def osirix(osirix_host: OsirixSession) -> OsirixSession:
    """The embedded OsiriX, reset: no viewer or 3D window, no ROI, the browser selection as loaded."""
    osirix_host.reset()
    return osirix_host


@pytest.fixture
def osirix_viewer(osirix: OsirixSession) -> Any:
    """A 2D viewer (frontmost) on the first series, middle slice displayed: its ViewerController reference."""
    return osirix.open_viewer()


@pytest.fixture
def osirix_roi(osirix: OsirixSession, osirix_viewer: Any) -> Any:
    """A selected oval ROI named ``osirix-tasks ROI`` on the viewer's displayed slice: its ROI reference."""
    return osirix.draw_roi("oval", select=True, viewer=osirix_viewer)


@pytest.fixture
def osirix_vr(osirix: OsirixSession, osirix_viewer: Any) -> Any:
    """A 3D window in VR mode opened from the viewer (frontmost): its VRController reference."""
    return osirix.open_3d("VR", osirix_viewer)


@pytest.fixture(scope="session")
def _osirix_runs(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The registry run_task reads, and the run store it writes."""
    folder = tmp_path_factory.mktemp("osirix-runs")
    registry = _path_option(pytestconfig, "osirix_registry")
    if registry is None:
        registry = folder / "tasks.toml"
        registry.write_text("")
    return registry, folder / "runs.sqlite"


@pytest.fixture
def run_task(osirix: OsirixSession, _osirix_runs: tuple[Path, Path]) -> Callable[..., TaskResult]:
    """``run_task(name, *args, type=None, timeout=120, registry=None, env=None, target=None)``: run a
    task through the real runner against the reset embedded OsiriX; returns its TaskResult.

    The task runs with the OsiriX's home as HOME, so unmodified pyosirix scripts find it too.
    """
    from .tasks import run_task as run

    default_registry, store = _osirix_runs

    def call(
        name: str,
        *args: str,
        type: str | None = None,
        timeout: float | None = 120,
        registry: Path | str | None = None,
        env: dict[str, str] | None = None,
        target: Target | None = None,
    ) -> TaskResult:
        home = osirix.env()
        overlay = {k: home[k] for k in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "OSIRIX_TASKS_HOME")}
        overlay.update(env or {})
        return run(
            name,
            *args,
            server=osirix.address,
            registry=Path(registry) if registry is not None else default_registry,
            store=store,
            kind=type,
            timeout=timeout,
            env=overlay,
            target=target,
        )

    return call
