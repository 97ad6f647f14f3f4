"""The osirix-tasks client for OsiriX (real or embedded), over the ``osirixgrpc`` stubs."""

from ._codec import PixelAnswer, decode_pix_image
from ._status import OsirixError, check
from .connection import Connection, NoServer, server_address

__all__ = ["Connection", "NoServer", "OsirixError", "PixelAnswer", "check", "decode_pix_image", "server_address"]
