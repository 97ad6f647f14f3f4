"""Refuse gRPC calls from other users' processes (Linux): the protocol has no authentication.

OsiriX's plugin serves anyone who reaches its port, and so would we: on a shared machine another
local user could list the patients and make the host import files. The gRPC ports bind 127.0.0.1, so
every caller is a process of this machine; on Linux the kernel says which user owns the other end of
a loopback connection: asked by its addresses and ports through ``sock_diag`` netlink (one hash
lookup, about 10 microseconds, so every call is checked), or else read from ``/proc/net/tcp`` and
``/proc/net/tcp6`` (which walk the whole connection table). A call whose
peer socket belongs to another user than the host's is answered ``PERMISSION_DENIED`` before it
reaches OsiriX (the plugin's status-0 answers are for its own clients; this caller is not one), and
the refusal is logged once per user. A peer whose owner cannot be found is refused too.

``serve --allow-other-users`` (or ``$OSIRIX_TASKS_ALLOW_OTHER_USERS=1``) turns the check off. On
other systems (macOS) there is no such check: the kernel does not tell a process who owns another
user's socket, so other local users can use the ports, as with OsiriX itself - keep the host to a
machine you do not share, or to your own account's sessions.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
import struct
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

__all__ = ["PeerCheck", "socket_owner", "parse_peer", "checks_peers", "REFUSED"]

log = logging.getLogger(__name__)
_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
_ESTABLISHED = "01"
#: sock_diag (linux/sock_diag.h, linux/inet_diag.h, linux/netlink.h).
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST = 1
_NLMSG_ERROR = 2
_NO_COOKIE = 0xFFFFFFFF
_UID_OFFSET = 4 + 48 + 12  # inet_diag_msg: family/state/timer/retrans, inet_diag_sockid, expires/queues
#: The answer's message (no detail about this host or its user).
REFUSED = (
    "this embedded OsiriX serves its own user's processes only - "
    "its owner can allow other users with 'osirix-tasks serve --allow-other-users'"
)


def checks_peers() -> bool:
    """Whether this system tells the owner of a peer socket (Linux)."""
    return sys.platform.startswith("linux") and _TABLES[0].exists()


def parse_peer(peer: str) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, int] | None:
    """gRPC's ``context.peer()`` (``ipv4:127.0.0.1:5000``, ``ipv6:[::1]:5000``) as (address, port)."""
    try:
        kind, rest = peer.split(":", 1)
        host, port = rest.rsplit(":", 1)
        if kind not in ("ipv4", "ipv6"):
            return None
        return ipaddress.ip_address(host.strip("[]")), int(port)
    except ValueError:
        return None


def _address(hex_address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """An address of /proc/net/tcp*: 32-bit words in host (little-endian) byte order."""
    raw = bytes.fromhex(hex_address)
    swapped = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    address = ipaddress.ip_address(swapped)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _diag_owner(family: int, peer: str, peer_port: int, server: str, server_port: int) -> int | None:
    """The owner of the TCP socket (peer -> server) from sock_diag (None: no such socket)."""

    def address(text: str) -> bytes:
        packed = socket.inet_pton(family, text)
        return packed + bytes(16 - len(packed))

    sockid = struct.pack("!HH", peer_port, server_port) + address(peer) + address(server)
    sockid += struct.pack("=III", 0, _NO_COOKIE, _NO_COOKIE)
    request = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 0xFFFFFFFF) + sockid
    header = struct.pack("=IHHII", 16 + len(request), _SOCK_DIAG_BY_FAMILY, _NLM_F_REQUEST, 1, 0)
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, _NETLINK_SOCK_DIAG) as link:
        link.settimeout(2.0)
        link.sendto(header + request, (0, 0))
        answer = link.recv(8192)
    _, kind = struct.unpack_from("=IH", answer)
    if kind == _NLMSG_ERROR:
        return None
    return int(struct.unpack_from("=I", answer, 16 + _UID_OFFSET)[0])


def _table_owner(peer: ipaddress.IPv4Address | ipaddress.IPv6Address, peer_port: int, server_port: int) -> int | None:
    """The owner from /proc/net/tcp*: only the lines with both ports are split."""
    line = re.compile(
        rf"^\s*\d+:\s+([0-9A-F]+):{peer_port:04X}\s+[0-9A-F]+:{server_port:04X}\s+{_ESTABLISHED}\s+"
        r"\S+\s+\S+\s+\S+\s+(\d+)",
        re.MULTILINE,
    )
    for table in _TABLES:
        try:
            text = table.read_text()
        except OSError:
            continue
        for match in line.finditer(text):
            if _address(match.group(1)) == peer:
                return int(match.group(2))
    return None


def socket_owner(peer: tuple[Any, int], server: tuple[str, int]) -> int | None:
    """The uid owning the client's end of the connection from ``peer`` (address, port) to ``server``
    (address, port), or None when there is no such connection. An IPv4 client may hold an IPv6
    socket (``::ffff:127.0.0.1``): both are asked."""
    address, port = peer
    server_address, server_port = server
    try:
        if isinstance(address, ipaddress.IPv4Address):
            found = _diag_owner(socket.AF_INET, str(address), port, server_address, server_port)
            if found is None:
                found = _diag_owner(socket.AF_INET6, f"::ffff:{address}", port, f"::ffff:{server_address}", server_port)
            return found
        return _diag_owner(socket.AF_INET6, str(address), port, server_address, server_port)
    except OSError:  # no sock_diag here (a kernel without it, a sandbox): read the tables
        return _table_owner(address, port, server_port)


class PeerCheck(grpc.ServerInterceptor):
    """The server interceptor of one port: calls from other users' processes are refused."""

    def __init__(self, server_port: int, server_address: str = "127.0.0.1", uid: int | None = None):
        self.server = (server_address, server_port)
        self.uid = os.getuid() if uid is None else uid
        self._logged: set[int | None] = set()
        self._lock = threading.Lock()
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}

    def allowed(self, peer: str) -> bool:
        """Whether the process at ``peer`` (``context.peer()``) belongs to this host's user."""
        parsed = parse_peer(peer)
        owner = socket_owner(parsed, self.server) if parsed is not None else None
        if owner == self.uid:
            return True
        self._log_once(owner, peer)
        return False

    def _log_once(self, owner: int | None, peer: str) -> None:
        with self._lock:
            if owner in self._logged:
                return
            self._logged.add(owner)
        who = f"user {owner}" if owner is not None else "a process whose user could not be found"
        log.warning(
            "port %d: refused gRPC calls from %s (%s; first seen at %s) - 'serve --allow-other-users' allows them",
            self.server[1],
            who,
            "not this host's user" if owner is not None else "the kernel lists no such connection",
            peer,
        )

    def intercept_service(
        self, continuation: Callable[[Any], grpc.RpcMethodHandler | None], details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = details.method
        wrapped = self._wrapped.get(method)
        if wrapped is None:
            wrapped = self._wrap(handler)
            self._wrapped[method] = wrapped
        return wrapped

    def _wrap(self, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        behaviour = handler.unary_unary

        def checked(request: Any, context: grpc.ServicerContext) -> Any:
            if not self.allowed(context.peer()):
                context.abort(grpc.StatusCode.PERMISSION_DENIED, REFUSED)
            return behaviour(request, context)

        return grpc.unary_unary_rpc_method_handler(
            checked,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
