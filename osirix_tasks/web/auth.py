"""The page's guard: who may read and write through the page's API, and the headers of every answer.

Like Jupyter, the address ``serve`` prints carries a random token. The page keeps it in the tab's
session storage and sends it in the ``X-Osirix-Tasks-Token`` header; no cookie ever carries it
(cookies ignore ports, so a cookie would reach every server on 127.0.0.1). Rules, checked on every
request before the application sees it:

* the ``Host`` header names the bound address, ``127.0.0.1:PORT`` or ``localhost:PORT`` (a page of
  another site whose name resolves to 127.0.0.1, DNS rebinding, is refused);
* the page itself and its code (``/``, ``/static/...``) hold no data and are served to anyone who
  passes that check; everything under ``/api/`` needs the token header, or, for an event stream
  (which a browser opens without headers), a single-use ticket (:mod:`.tickets`);
* a request that changes something (any method but GET/HEAD) must also come from the page itself:
  an ``Origin`` equal to the page's own, and a JSON body (``application/octet-stream`` for an
  upload). A page of another 127.0.0.1 port cannot set the header, cannot fake its Origin and
  cannot send JSON without the browser asking first, which this server never allows.

Every answer says: never frame this page, run only its own scripts, no referrer, no sniffing; API
answers are never cached.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import parse_qs

from .tickets import TicketBook

__all__ = ["PageGuard", "TOKEN_HEADER", "SECURITY_HEADERS", "CONTENT_SECURITY_POLICY"]

TOKEN_HEADER = "x-osirix-tasks-token"
_SAFE_METHODS = {"GET", "HEAD"}
#: Only our own files: no inline script or style, no other origin, never inside a frame.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
_HOW = "open the full address 'osirix-tasks serve' printed, or run 'osirix-tasks ui'"

Scope = dict[str, Any]


class PageGuard:
    """ASGI middleware applying the rules above; refused requests get 403 with the reason."""

    def __init__(
        self,
        app: Any,
        *,
        token: str,
        port: int,
        tickets: TicketBook,
        is_stream: Callable[[str], bool],
        binary_paths: Collection[str] = (),
    ):
        self.app = app
        self.token = token.encode()
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.tickets = tickets
        self.is_stream = is_stream
        self.binary_paths = set(binary_paths)

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # the page uses no websocket
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        is_api = scope["path"].startswith("/api/")
        send = _with_headers(send, no_store=is_api or scope["path"] == "/")
        problem = self.problem(scope, headers, is_api)
        if problem is not None:
            await _refuse(send, problem, is_api)
            return
        await self.app(scope, receive, send)

    def problem(self, scope: Scope, headers: dict[str, str], is_api: bool) -> str | None:
        """Why the request is refused, or None."""
        host = headers.get("host", "")
        if host not in self.hosts:
            return f"this page answers only as http://{sorted(self.hosts)[0]} (the request named {host!r})"
        if not is_api:
            return None
        method = scope["method"]
        if method in _SAFE_METHODS:
            if self._has_token(headers) or self._has_ticket(scope):
                return None
            return f"this request needs the page's token - {_HOW}"
        if not self._has_token(headers):
            return f"this request needs the page's token - {_HOW}"
        origin = headers.get("origin")
        if origin != f"http://{host}":
            return f"changes are accepted from this page only (Origin {origin!r}, expected 'http://{host}')"
        wanted = "application/octet-stream" if scope["path"] in self.binary_paths else "application/json"
        kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if kind != wanted:
            return f"a change must be sent as {wanted}, not {kind or 'no content type'!r}"
        return None

    def _has_token(self, headers: dict[str, str]) -> bool:
        candidate = headers.get(TOKEN_HEADER, "")
        return bool(candidate) and hmac.compare_digest(candidate.encode("latin-1"), self.token)

    def _has_ticket(self, scope: Scope) -> bool:
        if not self.is_stream(scope["path"]):
            return False
        ticket = (parse_qs(scope.get("query_string", b"").decode("latin-1")).get("ticket") or [""])[0]
        return bool(ticket) and self.tickets.redeem(ticket, scope["path"])


def _with_headers(send: Any, *, no_store: bool) -> Any:
    """``send`` adding the security headers (and ``Cache-Control: no-store``) to the answer."""

    async def sending(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            present = {name.lower() for name, _ in headers}
            headers += [(name, value) for name, value in SECURITY_HEADERS if name not in present]
            if no_store and b"cache-control" not in present:
                headers.append((b"cache-control", b"no-store"))
            message = {**message, "headers": headers}
        await send(message)

    return sending


async def _refuse(send: Any, reason: str, is_api: bool) -> None:
    if is_api:
        body, kind = json.dumps({"error": f"403 Forbidden: {reason}"}).encode(), b"application/json"
    else:
        body, kind = f"403 Forbidden: {reason}\n".encode(), b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
