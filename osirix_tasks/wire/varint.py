"""Protobuf wire-format varints, shared by the client's and the server's pixel codecs."""

from __future__ import annotations

__all__ = ["encode_varint", "read_varint"]


def encode_varint(value: int) -> bytes:
    """Base-128 varint of a non-negative int, as protobuf writes it."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def read_varint(data: memoryview, position: int) -> tuple[int, int]:
    """(value, next position) of the varint at ``position``; ValueError when truncated or too long."""
    value = shift = 0
    while True:
        if position >= len(data):
            raise ValueError("truncated varint")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")
