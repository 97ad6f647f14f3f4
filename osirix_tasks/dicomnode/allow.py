"""Who may talk to the node: allowed calling AE titles and peer addresses, and the log of the
associations refused (once per peer and time window, so a scanner retrying every second does not
fill the log)."""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["AllowList", "RefusalLog", "REFUSAL_WINDOW_SECONDS"]

log = logging.getLogger(__name__)
#: A peer refused again within this window is not logged again (it is counted).
REFUSAL_WINDOW_SECONDS = 300.0


@dataclass(frozen=True)
class AllowList:
    """Calling AE titles and addresses allowed to associate; an empty list allows any."""

    aets: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()

    def address_allowed(self, address: str) -> bool:
        """Whether a peer at ``address`` may connect."""
        if not self.addresses:
            return True
        try:
            peer = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
            peer = peer.ipv4_mapped
        return any(peer in ipaddress.ip_network(item, strict=False) for item in self.addresses)

    def aet_allowed(self, aet: str) -> bool:
        """Whether a peer calling itself ``aet`` may associate."""
        return not self.aets or aet.strip() in self.aets


@dataclass
class RefusalLog:
    """Logs each refused peer once per window; counts every refusal."""

    window: float = REFUSAL_WINDOW_SECONDS
    clock: Callable[[], float] = time.monotonic
    _last: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def refused(self, address: str, aet: str, why: str) -> bool:
        """Record a refused association; True when it was logged (first in its window)."""
        key = (address, aet)
        now = self.clock()
        with self._lock:
            self.counts[key] = self.counts.get(key, 0) + 1
            last = self._last.get(key)
            if last is not None and now - last < self.window:
                return False
            self._last[key] = now
            if len(self._last) > 4096:  # bounded: forget the oldest peers
                for old in sorted(self._last, key=self._last.__getitem__)[:1024]:
                    del self._last[old]
            count = self.counts[key]
        who = f"AE title {aet!r} at {address}" if aet else f"{address}"
        log.warning(
            "DICOM association refused: %s (%s)%s - add it to [dicom] allowed_aets / allowed_addresses "
            "in tasks.toml if it should be allowed",
            who,
            why,
            f"; {count} refusals so far" if count > 1 else "",
        )
        return True
