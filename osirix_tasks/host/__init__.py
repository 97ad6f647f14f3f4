"""The host process: ``run_host(config)`` assembles it (gRPC ports over one emulator state, the control
channel, the web page, runs started on request); the user's hands (select, open, place) as control
requests; ``spawn_host(config)`` starts one in a process of its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._support.lazy import lazy_exports

if TYPE_CHECKING:
    from .assemble import run_host
    from .config import HostConfig
    from .spawn import spawn_host

__all__ = ["HostConfig", "run_host", "spawn_host"]

__getattr__ = lazy_exports(__name__, {"HostConfig": ".config", "run_host": ".assemble", "spawn_host": ".spawn"})
