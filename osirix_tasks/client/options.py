"""gRPC channel and server options shared by our client and the embedded OsiriX."""

from __future__ import annotations

__all__ = ["MAX_MESSAGE_BYTES", "CHANNEL_OPTIONS"]

#: The largest message either side sends or accepts: a 4D viewer's worth of float32 planes.
MAX_MESSAGE_BYTES = 512 * 1024 * 1024

#: Options of every channel and server of ours.
CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]
