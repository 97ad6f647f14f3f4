"""The osirix-tasks client for OsiriX (real or embedded), over the ``osirixgrpc`` stubs."""

from ._status import OsirixError, check

__all__ = ["OsirixError", "check"]
