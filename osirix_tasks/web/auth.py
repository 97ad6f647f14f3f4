"""The token gate: like Jupyter, the page's URL carries a random token; requests without it are refused.

A request is let through when it carries the token in its query string (``?token=``), in the
``X-Osirix-Tasks-Token`` header, or in the cookie set on the first visit with the token. Its Host
header must name 127.0.0.1 or localhost (a page of another site that resolves its own name to
127.0.0.1 cannot reach us). Anything else gets 403.
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qs

__all__ = ["TokenGate", "cookie_name", "TOKEN_HEADER"]

TOKEN_HEADER = "x-osirix-tasks-token"
_LOCAL_NAMES = {"127.0.0.1", "localhost"}
_REFUSED = (
    b"403 Forbidden: this osirix-tasks page needs its token - open the full URL that "
    b"'osirix-tasks serve' printed, or run 'osirix-tasks ui'.\n"
)

Scope = dict[str, Any]


def cookie_name(port: int) -> str:
    """The cookie of one host's page (cookies ignore ports, so the port is in the name)."""
    return f"osirix_tasks_token_{port}"


def _cookies(header: str) -> dict[str, str]:
    found = {}
    for part in header.split(";"):
        name, _, value = part.strip().partition("=")
        if name:
            found[name] = value
    return found


class TokenGate:
    """ASGI middleware refusing every request that does not prove it knows the token."""

    def __init__(self, app: Any, token: str, port: int):
        self.app = app
        self.token = token
        self.port = port

    def _matches(self, candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(str(candidate).encode(), self.token.encode())

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "").rsplit(":", 1)[0].strip("[]")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        from_query = self._matches((query.get("token") or [None])[0])
        allowed = host in _LOCAL_NAMES and (
            from_query
            or self._matches(headers.get(TOKEN_HEADER))
            or self._matches(_cookies(headers.get("cookie", "")).get(cookie_name(self.port)))
        )
        if not allowed:
            await _refuse(scope, send)
            return
        if not from_query or scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = f"{cookie_name(self.port)}={self.token}; Path=/; HttpOnly; SameSite=Strict".encode("latin-1")

        async def send_with_cookie(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def _refuse(scope: Scope, send: Any) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(_REFUSED)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _REFUSED})
