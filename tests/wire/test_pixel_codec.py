"""The DCMPix fast path writes and reads exactly the bytes protobuf does."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from osirixgrpc import dcmpix_pb2, types_pb2

from osirix_tasks.emulator.protocol import failure
from osirix_tasks.emulator.workspace import Pix
from osirix_tasks.wire.pixel_encode import PixImage, parse_set_image_request, serialize_image_response
from osirix_tasks.wire.varint import encode_varint


def make_pix(data: np.ndarray) -> Pix:
    return Pix(data, (1.0, 1.0), (0.0, 0.0, 0.0), (1, 0, 0, 0, 1, 0, 0, 0, 1), 0.0, "", None, None, None)


@pytest.mark.parametrize("shape", [(512, 512), (1, 1), (3, 1000), (0, 0)])
def test_float_answer_is_byte_identical_to_protobuf(shape: tuple[int, int]) -> None:
    data = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    answer = PixImage(make_pix(data))
    assert answer.serialize() == answer.to_message().SerializeToString()
    decoded = dcmpix_pb2.DCMPixImageResponse.FromString(answer.serialize())
    assert np.asarray(decoded.image_data_float, dtype=np.float32).tobytes() == data.tobytes()
    assert (decoded.rows, decoded.columns, decoded.status.status) == (*shape, 1)


def test_argb_answer_is_byte_identical_to_protobuf() -> None:
    data = np.random.default_rng(2).integers(0, 256, size=(64, 48, 4)).astype(np.uint8)
    answer = PixImage(make_pix(data))
    assert answer.serialize() == answer.to_message().SerializeToString()


def test_failures_use_the_standard_serialiser() -> None:
    message = failure("DCMPixImage", "No DCMPix cached")
    assert serialize_image_response(message) == message.SerializeToString()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(width=32, allow_nan=False), max_size=300),
    st.text(max_size=40),
    st.lists(st.integers(0, 255), max_size=50),
)
def test_set_image_request_parses_like_protobuf(values: list[float], uid: str, argb: list[int]) -> None:
    request = dcmpix_pb2.DCMPixSetImageRequest(
        pix=types_pb2.DCMPix(osirixrpc_uid=uid), image_data_float=values, image_data_argb=argb
    )
    parsed = parse_set_image_request(request.SerializeToString())
    assert parsed.pix.osirixrpc_uid == uid
    assert parsed.float_values().tobytes() == np.asarray(values, dtype=np.float32).tobytes()
    assert parsed.argb_values().tolist() == argb


def test_unpacked_floats_are_parsed_too() -> None:
    unpacked = b"".join(b"\x15" + np.float32(v).tobytes() for v in (1.5, -2.0))  # field 2, wire type 5
    parsed = parse_set_image_request(unpacked)
    assert parsed.float_values().tolist() == [1.5, -2.0]


@pytest.mark.parametrize("garbage", [b"\x12\xff", b"\x12\x03abc", b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"])
def test_undecodable_bytes_raise(garbage: bytes) -> None:
    with pytest.raises(Exception):  # noqa: B017 - gRPC turns any deserialiser error into an error status
        parse_set_image_request(garbage)


def test_varints_match_protobufs_encoder() -> None:
    from google.protobuf.internal.encoder import _VarintBytes

    for value in (0, 1, 127, 128, 300, 16383, 16384, 2**31, 2**40, 2**63 - 1):
        assert encode_varint(value) == _VarintBytes(value)
