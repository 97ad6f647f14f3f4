"""Single-use tickets for the page's event streams.

A browser's ``EventSource`` cannot send the token header, and the token must not travel in a URL
or a cookie. So the page asks for a ticket with an authenticated POST (token header, its own
Origin, JSON) and opens the stream with ``?ticket=``: a ticket is good for one stream path, once,
for ``TICKET_SECONDS``.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["TicketBook", "TICKET_SECONDS", "MAX_TICKETS"]

#: How long a ticket can wait before its stream is opened.
TICKET_SECONDS = 30.0
#: Tickets kept at most (the oldest unused ones are dropped first).
MAX_TICKETS = 256


class TicketBook:
    """The tickets handed out and not used yet (thread-safe)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, lifetime: float = TICKET_SECONDS):
        self._clock = clock
        self._lifetime = lifetime
        self._lock = threading.Lock()
        self._issued: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def issue(self, path: str) -> str:
        """A fresh ticket for one connection to ``path``."""
        ticket = secrets.token_urlsafe(24)
        with self._lock:
            self._issued[ticket] = (path, self._clock() + self._lifetime)
            while len(self._issued) > MAX_TICKETS:
                self._issued.popitem(last=False)
        return ticket

    def redeem(self, ticket: str, path: str) -> bool:
        """True once for a ticket issued for ``path`` and not expired; it is spent either way."""
        with self._lock:
            for known in list(self._issued):
                if hmac.compare_digest(known.encode(), ticket.encode()):
                    issued_for, expires = self._issued.pop(known)
                    return issued_for == path and self._clock() <= expires
        return False
