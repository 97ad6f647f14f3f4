"""Find and connect to OsiriX (real or embedded): one channel, one RPC per call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import grpc
import osirixgrpc  # noqa: F401
from osirixgrpc import osirix_pb2_grpc, types_pb2, utilities_pb2

from ..errors import NoServer, OsirixError, OsirixUnreachable
from ..wire.options import CHANNEL_OPTIONS, IN_FLIGHT
from ._status import check
from .discovery import server_address

if TYPE_CHECKING:
    import numpy as np

    from ..wire.pixel_decode import PixelAnswer

__all__ = ["Connection", "server_address", "NoServer"]


class Connection:
    """A channel to OsiriX with the official stubs plus a fast DCMPixImage call."""

    def __init__(self, address: str | int | None = None):
        self.address = server_address(address)
        self.channel = grpc.insecure_channel(self.address, options=CHANNEL_OPTIONS)
        self.stub = osirix_pb2_grpc.OsiriXServiceStub(self.channel)
        self._pixel_calls: tuple[Any, Any] | None = None

    def _pixel_rpcs(self) -> tuple[Any, Any]:
        """DCMPixImage / DCMPixSetImage with our codec (made on first use: numpy loads only then)."""
        if self._pixel_calls is None:
            from ..wire.memory import tune_allocator
            from ..wire.pixel_decode import decode_pix_image

            tune_allocator()  # planes are megabytes each: keep their buffers for reuse (see _memory)

            get = self.channel.unary_unary(
                "/osirixgrpc.OsiriXService/DCMPixImage",
                request_serializer=types_pb2.DCMPix.SerializeToString,
                response_deserializer=decode_pix_image,
                _registered_method=True,
            )
            put = self.channel.unary_unary(
                "/osirixgrpc.OsiriXService/DCMPixSetImage",
                request_serializer=bytes,
                response_deserializer=utilities_pb2.Response.FromString,
                _registered_method=True,
            )
            self._pixel_calls = (get, put)
        return self._pixel_calls

    def call(self, rpc: str, request: Any) -> Any:
        """Call ``rpc``; status 0 raises :class:`OsirixError` with OsiriX's message."""
        try:
            response = getattr(self.stub, rpc)(request)
        except grpc.RpcError as exc:
            raise OsirixUnreachable(f"cannot reach OsiriX at {self.address}: {exc.code().name}", rpc=rpc) from None
        return check(response, rpc)

    def call_many(self, calls: Sequence[tuple[str, Any]], *, in_flight: int = 64) -> list[Any]:
        """Several calls sent together (at most ``in_flight`` waiting at once) instead of one after the
        other: one round trip's wait for a whole listing. Returns the answers in order; a status-0
        answer is returned as its :class:`OsirixError`, not raised (OsiriX says "not available" for
        optional fields). OsirixUnreachable when OsiriX cannot be reached."""
        answers: list[Any] = []
        for start in range(0, len(calls), in_flight):
            batch = calls[start : start + in_flight]
            futures = [getattr(self.stub, rpc).future(request) for rpc, request in batch]
            for (rpc, _), future in zip(batch, futures, strict=True):
                try:
                    response = future.result()
                except grpc.RpcError as exc:
                    raise OsirixUnreachable(
                        f"cannot reach OsiriX at {self.address}: {exc.code().name}", rpc=rpc
                    ) from None
                status = response.status
                answers.append(response if status.status == 1 else OsirixError(status.message, rpc=rpc))
        return answers

    def pixels(self, pix: Any) -> np.ndarray:
        """The image of one DCMPix (float32, or ARGB uint8 with a last axis of 4)."""
        return self._answer(self._pixel_rpcs()[0](pix)).image()

    def volume(self, pixes: Sequence[Any], *, out: np.ndarray | None = None, in_flight: int = IN_FLIGHT) -> np.ndarray:
        """The images of several DCMPix stacked (slices, rows, columns[, 4]).

        ``in_flight`` requests are kept going at once; each answer is copied into the result as it
        arrives and released, so the memory in transit stays at ``in_flight`` planes whatever the
        volume's size. ``out`` (optional) is a preallocated result to fill: C-contiguous, of the
        volume's shape and dtype (float32, or uint8 for ARGB).
        """
        from ._volume import fetch_volume

        return fetch_volume(self._pixel_rpcs()[0], pixes, self._answer, out=out, in_flight=in_flight)

    def set_pixels(self, pix: Any, image: np.ndarray) -> None:
        """Replace a DCMPix's pixels (float32 greyscale)."""
        from ..wire.pixel_decode import encode_set_image_request

        try:
            response = self._pixel_rpcs()[1](encode_set_image_request(pix, image))
        except grpc.RpcError as exc:
            raise OsirixUnreachable(
                f"cannot reach OsiriX at {self.address}: {exc.code().name}", rpc="DCMPixSetImage"
            ) from None
        check(response, "DCMPixSetImage")

    @staticmethod
    def _answer(answer: PixelAnswer) -> PixelAnswer:
        if answer.status != 1:
            raise OsirixError(answer.message, rpc="DCMPixImage")
        return answer

    def close(self) -> None:
        """Close the channel."""
        self.channel.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
