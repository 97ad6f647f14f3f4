"""The osirix-tasks client for OsiriX (real or embedded), over the ``osirixgrpc`` stubs.

Names are loaded on first use, so that ``osirix_tasks.client.discovery`` and
``osirix_tasks.client.server_configs`` can be imported without gRPC (the CLI's lean paths).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._support.lazy import lazy_exports

if TYPE_CHECKING:
    from ..errors import NoServer, OsirixError
    from ._status import check, value_or
    from .connection import Connection
    from .discovery import server_address

__all__ = ["Connection", "NoServer", "OsirixError", "check", "server_address", "value_or"]

_HOMES = {
    "Connection": ".connection",
    "NoServer": "..errors",
    "OsirixError": "..errors",
    "check": "._status",
    "server_address": ".discovery",
    "value_or": "._status",
}


__getattr__ = lazy_exports(__name__, _HOMES)
