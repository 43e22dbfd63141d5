"""The real client address, believed from forwarding headers only when a trusted proxy sent them.

nginx puts the client's address in ``X-Forwarded-For`` (replacing whatever the
client sent) and ``X-Real-IP``. Anyone can send those headers, so they count
only when the direct peer is one of ``TRUSTED_PROXIES``: addresses, networks,
or ``unix`` for a peer on a unix socket (``make stack`` binds the app to a
socket only nginx's workers may open, so such a peer is nginx). With none
configured the headers are ignored entirely.

``X-Forwarded-For`` is read strictly: walked from the right, skipping trusted
proxies, every entry must be a bare IP address. The first entry that is not
trusted is the client; an entry that is not an address stops the walk and
the headers are not believed at all (the peer stays the client), so a
malformed chain can never name a client of its own choosing.
``X-Real-IP`` is used only when no ``X-Forwarded-For`` came.

Installing it on the app rather than in the server makes one mechanism serve
the embedded server, Gunicorn workers and tests alike. The server's own
proxy-header handling is off (uvicorn ``proxy_headers=False``; Gunicorn
``forwarded_allow_ips`` empty) so it never rewrites the peer first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from app.settings import UNIX_SOCKET_PEER, Settings

UNKNOWN_CLIENT = "unknown"
FORWARDED_SCHEMES = frozenset({"http", "https"})

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(request: Request) -> str:
    """The client's address as resolved by ``ClientIPMiddleware`` (or the peer without it)."""
    return request.client.host if request.client else UNKNOWN_CLIENT


def install_client_ip(app: FastAPI, settings: Settings) -> None:
    """Believe forwarding headers from ``settings.trusted_proxies``; do nothing without any.

    Call it after every other ``add_middleware`` so it runs first and all
    later middleware, logs and routes see the real client.
    """
    if settings.trusted_proxies:
        app.add_middleware(ClientIPMiddleware, trusted_proxies=settings.trusted_proxies)


class TrustedProxies:
    """Which peers may speak for the client: networks, and maybe unix-socket peers."""

    def __init__(self, entries: Iterable[str]) -> None:
        items = [entry.strip() for entry in entries]
        self.unix_socket = UNIX_SOCKET_PEER in items
        self.networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(item, strict=False) for item in items if item != UNIX_SOCKET_PEER
        )

    def trusts_peer(self, client: tuple[str, int] | None) -> bool:
        if client is None or not client[0]:
            return self.unix_socket
        address = parse_ip(client[0])
        return address is not None and self.trusts(address)

    def trusts(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)

    def client_from_chain(self, chain: str) -> IPAddress | None:
        """The rightmost untrusted address of ``X-Forwarded-For``; ``None`` if unusable."""
        entries = [entry.strip() for entry in chain.split(",")]
        for entry in reversed(entries):
            address = parse_ip(entry)
            if address is None:
                return None
            if not self.trusts(address):
                return address
        # Every hop is a trusted proxy: the leftmost one is the client.
        return parse_ip(entries[0])


class ClientIPMiddleware:
    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[str]) -> None:
        self.app = app
        self.trusted = TrustedProxies(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            _unmap_ipv4_peer(scope)
            if self.trusted.trusts_peer(scope.get("client")):
                self._believe(scope)
        await self.app(scope, receive, send)

    def _believe(self, scope: Scope) -> None:
        forwarded_for = _header_values(scope, b"x-forwarded-for")
        if forwarded_for:
            client = self.trusted.client_from_chain(",".join(forwarded_for))
        else:
            real_ip = _header_values(scope, b"x-real-ip")
            client = parse_ip(real_ip[-1]) if len(real_ip) == 1 else None
        if client is not None:
            scope["client"] = (str(client), 0)
        proto = _header_values(scope, b"x-forwarded-proto")
        if len(proto) == 1 and proto[0] in FORWARDED_SCHEMES:
            scope["scheme"] = proto[0]


def parse_ip(text: str) -> IPAddress | None:
    """A bare IPv4 or IPv6 address (no port, no brackets, no zone), else ``None``."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id is not None:
            return None
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
    return address


def _unmap_ipv4_peer(scope: Scope) -> None:
    """Dual-stack listeners report IPv4 peers as ``::ffff:a.b.c.d``; trust lists say ``a.b.c.d``."""
    client = scope.get("client")
    if not client:
        return
    address = parse_ip(client[0])
    if address is not None and str(address) != client[0]:
        scope["client"] = (str(address), client[1])


def _header_values(scope: Scope, name: bytes) -> list[str]:
    return [value.decode("latin-1") for key, value in scope["headers"] if key == name]
