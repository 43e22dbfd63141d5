"""The real client address, believed from forwarding headers only when a trusted proxy sent them.

nginx puts the client's address in ``X-Forwarded-For`` (appending to what the
client sent) and ``X-Real-IP``. Anyone can send those headers, so they count
only when the direct peer is one of ``TRUSTED_PROXIES``; with none
configured they are ignored entirely. ``X-Forwarded-For`` is resolved by
uvicorn's own ``ProxyHeadersMiddleware`` (rightmost address that is not a
trusted proxy, so a client-supplied prefix is never believed); ``X-Real-IP``
is used only when no ``X-Forwarded-For`` came.

Installing it on the app rather than in the server makes one mechanism serve
the embedded server, Gunicorn workers and tests alike. The server's own
proxy-header handling must then be off (uvicorn ``proxy_headers=False``;
Gunicorn ``forwarded_allow_ips`` empty), or it would rewrite the peer first
under its own trust list.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.settings import Settings

UNKNOWN_CLIENT = "unknown"

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


class ClientIPMiddleware:
    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[str]) -> None:
        # Normalised here because uvicorn parses networks strictly and would
        # silently treat "10.0.0.1/24" as a never-matching literal.
        self._networks: tuple[IPNetwork, ...] = tuple(
            ipaddress.ip_network(item.strip(), strict=False) for item in trusted_proxies
        )
        self._forwarded_for = ProxyHeadersMiddleware(
            app,  # type: ignore[arg-type]
            trusted_hosts=[str(network) for network in self._networks],
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            _unmap_ipv4_peer(scope)
            if self._trusts(scope) and not _has_header(scope, b"x-forwarded-for"):
                _use_real_ip(scope)
        await self._forwarded_for(scope, receive, send)  # type: ignore[arg-type]

    def _trusts(self, scope: Scope) -> bool:
        client = scope.get("client")
        address = _parse_ip(client[0]) if client else None
        return address is not None and any(address in network for network in self._networks)


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _unmap_ipv4_peer(scope: Scope) -> None:
    """Dual-stack listeners report IPv4 peers as ``::ffff:a.b.c.d``; trust lists say ``a.b.c.d``."""
    client = scope.get("client")
    if not client:
        return
    address = _parse_ip(client[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        scope["client"] = (str(address.ipv4_mapped), client[1])


def _has_header(scope: Scope, name: bytes) -> bool:
    return any(key == name for key, _ in scope["headers"])


def _use_real_ip(scope: Scope) -> None:
    for key, value in scope["headers"]:
        if key == b"x-real-ip":
            address = _parse_ip(value.decode("latin-1").strip())
            if address is not None:
                scope["client"] = (str(address), 0)
            return
