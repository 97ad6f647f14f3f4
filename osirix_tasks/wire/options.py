"""gRPC channel and server options shared by our client and the embedded OsiriX."""

from __future__ import annotations

__all__ = ["MAX_MESSAGE_BYTES", "CHANNEL_OPTIONS", "IN_FLIGHT"]

#: The largest message either side sends or accepts: a 4D viewer's worth of float32 planes (the
#: plugin's own server limit).
MAX_MESSAGE_BYTES = 512 * 1024 * 1024

#: Options of every channel and server of ours. Flow-control and framing options were measured on
#: 300-plane fetches (grpc.http2.lookahead_bytes, max_frame_size, write_buffer_size, bdp_probe off,
#: the experimental TCP read chunk sizes) and none did better than gRPC's defaults, whose BDP probing
#: already opens the windows; what did matter is in client/_volume.py and client/_memory.py.
CHANNEL_OPTIONS: list[tuple[str, int]] = [
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
]

#: DCMPixImage requests a volume fetch keeps going at once (2 to 64 measured: 4 and 8 are best on
#: 512x512 planes; more only holds more planes in memory).
IN_FLIGHT = 4
