"""The osirix-tasks client for OsiriX (real or embedded), over the ``osirixgrpc`` stubs."""

from ._status import OsirixError, check
from .connection import Connection, NoServer, server_address

__all__ = ["Connection", "NoServer", "OsirixError", "check", "server_address"]
