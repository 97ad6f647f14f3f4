"""What a host serves: its gRPC ports, its database and what to load into it, its page.

One :class:`HostConfig` describes a host wherever it is started: ``osirix-tasks serve`` builds one
from its options and hands it to :func:`~osirix_tasks.host.assemble.run_host`; ``demo``, ``ui``,
``servers start``, the test kit and the benchmarks hand one to
:func:`~osirix_tasks.host.spawn.spawn_host`, which starts ``serve`` with :meth:`HostConfig.serve_args`
in a process of its own. No heavy imports: the CLI's lean paths build configs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["HostConfig", "DEFAULT_PORT", "database_folder"]

#: The port served when neither the config nor server_configs.json names one (OsiriXgrpc's default).
DEFAULT_PORT = 50051


@dataclass(frozen=True)
class HostConfig:
    """Every choice ``osirix-tasks serve`` offers, with its defaults."""

    #: Ports on 127.0.0.1; empty: every port of server_configs.json, else :data:`DEFAULT_PORT`.
    ports: tuple[int, ...] = ()
    #: The database folder; None: the per-user data folder's ``database``.
    database: Path | None = None
    #: Clear the database folder's index and copies first.
    empty: bool = False
    #: Import the bundled demo series when the database is empty (also when nothing else is said).
    demo: bool = False
    #: DICOM files or folders imported first (copied into the database).
    imports: tuple[str, ...] = ()
    #: Serve the page, on ``web_port`` (0: a free port).
    web: bool = True
    web_port: int = 0
    #: How long one of the page's event streams lasts before the page reconnects (None: STREAM_SECONDS).
    web_stream_seconds: float | None = None
    #: The tasks.toml the page shows, edits and runs; None: the usual choice (see ``registry_path``).
    registry: Path | None = None
    #: Log every host event.
    verbose: bool = False

    def database_folder(self) -> Path:
        """The database folder: :attr:`database`, else ``database`` in the per-user data folder."""
        return database_folder(self.database)

    @property
    def loads_demo(self) -> bool:
        """Whether the demo series is imported into an empty database (asked for, or nothing else said)."""
        return self.demo or not (self.empty or self.imports)

    def serve_args(self) -> list[str]:
        """The ``osirix-tasks serve`` options that give this config (for a host in its own process)."""
        args: list[str] = []
        for port in self.ports:
            args += ["--port", str(port)]
        if self.database is not None:
            args += ["--database", str(self.database)]
        if self.empty:
            args.append("--empty")
        if self.demo:
            args.append("--demo")
        for path in self.imports:
            args += ["--import", str(path)]
        if not self.web:
            args.append("--no-web")
        else:
            if self.web_port:
                args += ["--web-port", str(self.web_port)]
            if self.web_stream_seconds is not None:
                args += ["--web-stream-seconds", str(self.web_stream_seconds)]
        if self.registry is not None:
            args += ["--registry", str(self.registry)]
        if self.verbose:
            args.append("--verbose")
        return args


def database_folder(explicit: str | Path | None) -> Path:
    """``--database`` (absolute), else ``database`` in the per-user data folder."""
    from .._support.paths import user_data_dir

    return Path(explicit).expanduser().absolute() if explicit else user_data_dir() / "database"
