"""Decode a DCMPixImage answer straight from the wire: the packed float block becomes a numpy
array with ``numpy.frombuffer`` (no Python float per pixel). Bit-exact with protobuf's decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from osirixgrpc import dcmpix_pb2, utilities_pb2

from .varint import encode_varint, read_varint

__all__ = ["PixelAnswer", "decode_pix_image", "encode_set_image_request"]


@dataclass(frozen=True)
class PixelAnswer:
    """A decoded DCMPixImage response."""

    status: int
    message: str
    rows: int
    columns: int
    is_argb: bool
    pixels: np.ndarray

    def image(self) -> np.ndarray:
        """(rows, columns) float32, or (rows, columns, 4) ARGB."""
        if self.is_argb:
            return self.pixels.reshape(self.rows, self.columns, 4)
        return self.pixels.reshape(self.rows, self.columns)


def decode_pix_image(data: bytes) -> PixelAnswer:
    """The gRPC response deserialiser of DCMPixImage for our client."""
    view = memoryview(data)
    position = 0
    status, message, rows, columns, is_argb = 0, "", 0, 0, False
    floats: list[np.ndarray] = []
    argb_runs: list[bytes] = []
    try:
        while position < len(view):
            key, position = read_varint(view, position)
            field, wire = key >> 3, key & 7
            if wire == 0:
                value, position = read_varint(view, position)
                if field == 2:
                    rows = value
                elif field == 3:
                    columns = value
                elif field == 4:
                    is_argb = bool(value)
            elif wire == 2:
                length, position = read_varint(view, position)
                chunk = view[position : position + length]
                position += length
                if field == 1:
                    parsed = utilities_pb2.Status.FromString(bytes(chunk))
                    status, message = parsed.status, parsed.message
                elif field == 5:
                    floats.append(np.frombuffer(chunk, dtype="<f4"))
                elif field == 6:
                    argb_runs.append(bytes(chunk))
            else:
                raise ValueError("unexpected wire type")
    except (IndexError, ValueError):
        return _standard(data)
    if argb_runs:
        return _standard(data)
    pixels = floats[0] if len(floats) == 1 else (np.concatenate(floats) if floats else np.empty(0, "<f4"))
    return PixelAnswer(status, message, rows, columns, is_argb, pixels)


def _standard(data: bytes) -> PixelAnswer:
    """Protobuf's own decoding: ARGB answers and anything unusual."""
    response = dcmpix_pb2.DCMPixImageResponse.FromString(data)
    if response.is_argb:
        pixels = np.asarray(response.image_data_argb, dtype=np.uint8)
    else:
        pixels = np.asarray(response.image_data_float, dtype=np.float32)
    return PixelAnswer(
        response.status.status, response.status.message, response.rows, response.columns, response.is_argb, pixels
    )


def encode_set_image_request(pix: Any, image: np.ndarray) -> bytes:
    """DCMPixSetImageRequest bytes for float32 pixels, the block written with ``tobytes`` (the same
    bytes protobuf writes for that message)."""
    pix_bytes = pix.SerializeToString()
    block = np.ascontiguousarray(image, dtype="<f4").tobytes()
    parts = [b"\x0a", encode_varint(len(pix_bytes)), pix_bytes]
    if block:
        parts += [b"\x12", encode_varint(len(block)), block]
    return b"".join(parts)
