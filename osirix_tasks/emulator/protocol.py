"""The OsiriXgrpc protocol as the official ``osirixgrpc`` stubs define it: RPC names and messages.

Nothing here is a copy of the .proto files: every table is read from the stubs' descriptors.
"""

from __future__ import annotations

from typing import Any

import osirixgrpc  # noqa: F401  (puts the generated modules on sys.path as the stubs expect)
from google.protobuf import message_factory
from osirixgrpc import osirix_pb2, utilities_pb2

from ..errors import OsirixError

__all__ = ["SERVICE_NAME", "RPC_NAMES", "request_class", "response_class", "OsirixError", "RpcFailure", "ok", "failure"]

_SERVICE = osirix_pb2.DESCRIPTOR.services_by_name["OsiriXService"]
SERVICE_NAME = _SERVICE.full_name
RPC_NAMES: tuple[str, ...] = tuple(method.name for method in _SERVICE.methods)
_REQUESTS = {m.name: message_factory.GetMessageClass(m.input_type) for m in _SERVICE.methods}
_RESPONSES = {m.name: message_factory.GetMessageClass(m.output_type) for m in _SERVICE.methods}


def request_class(rpc: str) -> Any:
    """The request message class of ``rpc``."""
    return _REQUESTS[rpc]


def response_class(rpc: str) -> Any:
    """The response message class of ``rpc``."""
    return _RESPONSES[rpc]


#: The status-0 failure an RPC implementation raises is the protocol's one: :class:`OsirixError`. This
#: second name is kept only while branches written before the error tree are merged (then removed).
RpcFailure = OsirixError


def ok(rpc: str, **fields: Any) -> Any:
    """A success response of ``rpc`` with ``fields``."""
    return _RESPONSES[rpc](status=utilities_pb2.Status(status=1), **fields)


def failure(rpc: str, message: str) -> Any:
    """A ``status = 0`` response of ``rpc`` carrying ``message``."""
    return _RESPONSES[rpc](status=utilities_pb2.Status(status=0, message=message))


#: RPC name -> implementation ``fn(state, request) -> response``; filled by the modules of ``rpc/``.
IMPLEMENTATIONS: dict[str, Any] = {}


def implements(func: Any) -> Any:
    """Register ``func`` as the implementation of the RPC of the same name."""
    if func.__name__ not in _RESPONSES:
        raise NameError(f"{func.__name__} is not an RPC of {SERVICE_NAME}")
    IMPLEMENTATIONS[func.__name__] = func
    return func
