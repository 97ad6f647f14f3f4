"""Bounded connections for the page's server: nobody can hold the host's file descriptors.

uvicorn times out an idle keep-alive connection but not one that never finishes its request, and
it accepts every connection. Anyone on the machine can connect without the token, so:

* a connection must send a complete request head within ``HEADER_SECONDS`` of connecting (or of
  its previous answer), else it is closed;
* at most ``MAX_CONNECTIONS`` are open; a new one past that closes the connection that has waited
  longest for its request (a flood of half-sent requests cannot crowd out the page), or itself
  when every connection is busy answering;
* the condition is logged once when it starts and once when it is over, never per connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["ConnectionLimit", "protocol_for", "MAX_CONNECTIONS", "HEADER_SECONDS"]

log = logging.getLogger(__name__)

#: Connections open at once (a browser opens at most 6 to one address; a page needs 3 of them).
MAX_CONNECTIONS = 64
#: Time to send a complete request head.
HEADER_SECONDS = 10.0


class ConnectionLimit:
    """The connections of one server that wait for a request, oldest first, and the full condition."""

    def __init__(self, most: int = MAX_CONNECTIONS, header_seconds: float = HEADER_SECONDS):
        self.most = most
        self.header_seconds = header_seconds
        self.waiting: OrderedDict[GuardedH11Protocol, float] = OrderedDict()
        self.full_since: float | None = None
        self.closed_while_full = 0

    def settle(self, open_now: int) -> None:
        """Say once that the full condition is over (half the connections are free again)."""
        if self.full_since is not None and open_now <= self.most // 2:
            log.warning(
                "web page: connections are back to normal after %.0f s (%d closed while full)",
                time.monotonic() - self.full_since,
                self.closed_while_full,
            )
            self.full_since, self.closed_while_full = None, 0

    def make_room(self, newcomer: GuardedH11Protocol, open_now: int) -> bool:
        """Called with each new connection; False when the newcomer itself must be closed."""
        if open_now <= self.most:
            self.settle(open_now)
            return True
        if self.full_since is None:
            self.full_since = time.monotonic()
            log.warning(
                "web page: %d connections are open, the most it keeps - closing those that send no request "
                "(a local program may be flooding it; said once until it is over)",
                open_now,
            )
        self.closed_while_full += 1
        for oldest in list(self.waiting):
            if oldest is not newcomer:
                oldest.close("connections are full")
                return True
        return False


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a request-head timeout and a place in its ConnectionLimit."""

    limit: ConnectionLimit

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_request()
        if not self.limit.make_room(self, len(self.connections)):
            self.close("connections are full")

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)
        self.limit.settle(len(self.connections))

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.cycle is not None and not self.cycle.response_complete:
            self._stop_waiting()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        idle = self.cycle is None or self.cycle.response_complete  # no pipelined request started
        if idle and not self.transport.is_closing():
            self._wait_for_request()

    def close(self, reason: str) -> None:
        """Close the connection now (the client gets no answer)."""
        self._stop_waiting()
        if not self.transport.is_closing():
            self.transport.close()

    def _wait_for_request(self) -> None:
        self._stop_waiting()
        self.limit.waiting[self] = time.monotonic()
        self._head_timer = self.loop.call_later(self.limit.header_seconds, self.close, "no request in time")

    def _stop_waiting(self) -> None:
        self.limit.waiting.pop(self, None)
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None


def protocol_for(limit: ConnectionLimit) -> type[GuardedH11Protocol]:
    """The protocol class of one server (uvicorn makes one instance per connection)."""
    return type("PageH11Protocol", (GuardedH11Protocol,), {"limit": limit})
