"""Every RPC of osirixgrpc.OsiriXService answers: with a status, never UNIMPLEMENTED, never a crash."""

from __future__ import annotations

import osirixgrpc  # noqa: F401
import pytest
from osirixgrpc import osirix_pb2_grpc, types_pb2
from osirixgrpc.utilities_pb2 import Empty

from osirix_tasks.emulator.protocol import RPC_NAMES, request_class
from osirix_tasks.testing import RunningHost

#: The protocol's object references: every message of types.proto.
REF_TYPES = frozenset(types_pb2.DESCRIPTOR.message_types_by_name)


def test_the_servicer_covers_the_stubs_contract() -> None:
    contract = {n for n in dir(osirix_pb2_grpc.OsiriXServiceServicer) if not n.startswith("_")}
    assert set(RPC_NAMES) == contract and len(contract) == 141


def with_unknown_uids(rpc: str):  # type: ignore[no-untyped-def]
    """The RPC's request with every object reference set to an unknown uid; the type it names."""
    request = request_class(rpc)()
    descriptor = request.DESCRIPTOR
    if descriptor.name in REF_TYPES:
        request.osirixrpc_uid = "11111111-2222-3333-4444-555555555555"
        return request, descriptor.name
    first = None
    for field in descriptor.fields:
        if field.message_type is not None and field.message_type.name in REF_TYPES and not field.is_repeated:
            getattr(request, field.name).osirixrpc_uid = "11111111-2222-3333-4444-555555555555"
            first = first or field.message_type.name
    return request, first


@pytest.mark.parametrize("rpc", RPC_NAMES)
def test_empty_request_gets_a_status_answer(host: RunningHost, rpc: str) -> None:
    answer = getattr(host.stub(), rpc)(request_class(rpc)())
    assert answer.status.status in (0, 1)
    if answer.status.status == 0:
        assert answer.status.message


@pytest.mark.parametrize("rpc", [r for r in RPC_NAMES if with_unknown_uids(r)[1] is not None])
def test_unknown_uid_is_status_0_naming_the_type(host: RunningHost, rpc: str) -> None:
    request, kind = with_unknown_uids(rpc)
    answer = getattr(host.stub(), rpc)(request)
    assert answer.status.status == 0
    assert answer.status.message == f"No {kind} cached"
    # the host is still serving afterwards
    assert host.stub().OsirixVersion(Empty()).status.status == 1


def test_every_rpc_has_an_implementation() -> None:
    from osirix_tasks.emulator.protocol import IMPLEMENTATIONS
    from osirix_tasks.emulator.rpc import servicer  # noqa: F401  (loads every rpc module)

    assert sorted(set(RPC_NAMES) - set(IMPLEMENTATIONS)) == []
