"""The gRPC handler of the whole ``osirixgrpc.OsiriXService``.

Every RPC the stubs define gets a handler. A call that changes something is recorded in the state's
change counters (:mod:`..changes`) once it succeeds, and a change of a viewer's ROIs reaches the ROI
store (:mod:`..roi_store.watch`). Implementations raise :class:`OsirixError` for the
status-0 answers OsiriX gives; any other exception is logged and answered as status 0 too, so a
bad request never takes the host down and never surfaces as a gRPC error. An RPC without an
implementation answers status 0 naming itself (never UNIMPLEMENTED).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import grpc

from ...wire.memory import tune_allocator
from ...wire.pixel_encode import parse_set_image_request, serialize_image_response
from ..protocol import (
    IMPLEMENTATIONS,
    RPC_NAMES,
    SERVICE_NAME,
    OsirixError,
    failure,
    request_class,
    response_class,
)
from ..request_guard import RequestGuard
from ..roi_store.watch import after_call, before_call
from ..state import OsirixState
from . import browser, dicom, osirix, pix, roi, viewer, vr  # noqa: F401

__all__ = ["build_handler"]

log = logging.getLogger(__name__)


def _guarded(name: str, state: OsirixState) -> Callable[[Any, grpc.ServicerContext], Any]:
    implementation = IMPLEMENTATIONS.get(name)

    def call(request: Any, context: grpc.ServicerContext) -> Any:
        if implementation is None:
            return failure(name, f"{name} is not implemented yet by the embedded OsiriX")
        try:
            affected = state.changes.affected(state, name, request)
            before_call(state, name, request)  # a viewer the call closes has its changed ROIs saved now
            response = implementation(state, request)
            if affected is not None and response.status.status == 1:
                state.changes.record(affected)
                after_call(state, affected)  # changed ROIs are saved within a second
            return response
        except OsirixError as exc:
            return failure(name, exc.message)
        except MemoryError:
            log.error("%s ran out of memory", name)
            return failure(name, f"{name}: not enough memory to answer this request - ask for less data at a time")
        except Exception as exc:
            log.exception("%s failed", name)
            return failure(name, f"{name} failed: {type(exc).__name__}: {exc}")

    return call


#: The heavy calls get their own (de)serialisers: see fastpix.
_DESERIALIZERS: dict[str, Callable[[bytes], Any]] = {"DCMPixSetImage": parse_set_image_request}
_SERIALIZERS: dict[str, Callable[[Any], bytes]] = {"DCMPixImage": serialize_image_response}


def build_handler(state: OsirixState) -> grpc.GenericRpcHandler:
    """A generic handler serving every RPC of OsiriXService on ``state`` (with the memory guards of
    :mod:`.request_guard`)."""
    tune_allocator()
    guard = RequestGuard()
    handlers = {
        name: grpc.unary_unary_rpc_method_handler(
            guard.behaviour(name, _guarded(name, state), failure),
            request_deserializer=guard.parser(name, _DESERIALIZERS.get(name, request_class(name).FromString)),
            response_serializer=_SERIALIZERS.get(name, response_class(name).SerializeToString),
        )
        for name in RPC_NAMES
    }
    return grpc.method_handlers_generic_handler(SERVICE_NAME, handlers)
