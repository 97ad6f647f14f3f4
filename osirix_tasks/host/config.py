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
    #: The tasks.toml this host offers (its page shows, edits and runs it; its status names it); None:
    #: the usual choice (see ``registry_path``).
    registry: Path | None = None
    #: Keep the viewers' ROIs with their study (loaded on open, saved when they change), as OsiriX with
    #: its "save ROIs" preference on; False: in memory only (``--no-save-rois``).
    save_rois: bool = True
    #: Listen as a DICOM node on this port (0: a free one); None: the registry's ``[dicom] port``, and
    #: no node when that is not set either.
    dicom_port: int | None = None
    #: The DICOM node's AE title; None: ``[dicom] ae_title`` of the registry (default ``OSIRIX_TASKS``).
    dicom_aet: str | None = None
    #: The address the DICOM node listens on; None: ``[dicom] address`` (default 127.0.0.1). Any other
    #: address needs the registry's allow-lists (``[dicom] allowed_aets`` and ``allowed_addresses``).
    dicom_address: str | None = None
    #: On stopping, remove the server_configs.json entries this host added (``demo``'s random port).
    temporary: bool = False
    #: MiB one pixel decode may allocate (None: ``$OSIRIX_TASKS_MAX_DECODE_MB``, else 1024).
    max_decode_mb: float | None = None
    #: Serve other users' processes on the gRPC ports too (else refused where the system tells).
    allow_other_users: bool = False
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
        for path in self.imports:
            args += ["--import", str(path)]
        valued = (
            ("--database", self.database),
            ("--web-port", (self.web_port or None) if self.web else None),
            ("--web-stream-seconds", self.web_stream_seconds if self.web else None),
            ("--registry", self.registry),
            ("--dicom-port", self.dicom_port),
            ("--dicom-aet", self.dicom_aet),
            ("--dicom-address", self.dicom_address),
            ("--max-decode-mb", self.max_decode_mb),
        )
        for option, value in valued:
            if value is not None:
                args += [option, str(value)]
        flags = (
            ("--empty", self.empty),
            ("--demo", self.demo),
            ("--no-web", not self.web),
            ("--temporary", self.temporary),
            ("--allow-other-users", self.allow_other_users),
            ("--no-save-rois", not self.save_rois),
            ("--verbose", self.verbose),
        )
        return args + [option for option, given in flags if given]


def database_folder(explicit: str | Path | None) -> Path:
    """``--database`` (absolute), else ``database`` in the per-user data folder."""
    from .._support.paths import user_data_dir

    return Path(explicit).expanduser().absolute() if explicit else user_data_dir() / "database"
