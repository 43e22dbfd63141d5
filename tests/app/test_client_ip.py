"""Forwarding headers are believed only from trusted proxies, in-process and over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from starlette.types import Receive, Scope, Send

from app.client_ip import client_ip, install_client_ip
from app.settings import Settings
from tests.support.processes import free_port, wait_until

pytestmark = pytest.mark.anyio

NGINX = ("10.1.2.3", 50000)
STRANGER = ("203.0.113.5", 50000)


def make_app(trusted_proxies: str) -> FastAPI:
    app = FastAPI()

    @app.get("/whoami")
    async def whoami(request: Request) -> dict[str, str]:
        return {"ip": client_ip(request), "scheme": request.url.scheme}

    settings = Settings(_env_file=None, trusted_proxies=trusted_proxies)  # type: ignore[call-arg]
    install_client_ip(app, settings)
    return app


async def seen(
    app: FastAPI,
    peer: tuple[str, int],
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
) -> dict[str, str]:
    transport = httpx.ASGITransport(app=app, client=peer)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.get("/whoami", headers=headers)
    assert response.status_code == 200
    body: dict[str, str] = response.json()
    return body


SPOOF = {"X-Forwarded-For": "198.51.100.4", "X-Real-IP": "198.51.100.4"}


async def test_without_trusted_proxies_forwarding_headers_are_ignored() -> None:
    app = make_app("")
    assert (await seen(app, NGINX, SPOOF))["ip"] == "10.1.2.3"
    assert (await seen(app, ("127.0.0.1", 1), SPOOF))["ip"] == "127.0.0.1"


async def test_an_untrusted_peer_cannot_spoof_its_address() -> None:
    app = make_app("10.0.0.0/8")
    body = await seen(app, STRANGER, {**SPOOF, "X-Forwarded-Proto": "https"})
    assert body == {"ip": "203.0.113.5", "scheme": "http"}


async def test_a_trusted_proxy_is_believed() -> None:
    app = make_app("10.0.0.0/8")
    body = await seen(app, NGINX, {"X-Forwarded-For": "198.51.100.4", "X-Forwarded-Proto": "https"})
    assert body == {"ip": "198.51.100.4", "scheme": "https"}


async def test_a_client_supplied_prefix_is_not_believed() -> None:
    # nginx appends the real peer to whatever the client sent: the rightmost
    # address that is not a proxy is the client.
    app = make_app("10.0.0.0/8")
    headers = {"X-Forwarded-For": "6.6.6.6, 198.51.100.4"}
    assert (await seen(app, NGINX, headers))["ip"] == "198.51.100.4"


async def test_a_chain_of_trusted_proxies_is_walked() -> None:
    app = make_app("10.0.0.0/8")
    headers = {"X-Forwarded-For": "6.6.6.6, 198.51.100.4, 10.9.9.9"}
    assert (await seen(app, NGINX, headers))["ip"] == "198.51.100.4"


async def test_x_real_ip_from_a_trusted_proxy_is_used_when_there_is_no_x_forwarded_for() -> None:
    app = make_app("10.0.0.0/8")
    assert (await seen(app, NGINX, {"X-Real-IP": "198.51.100.9"}))["ip"] == "198.51.100.9"
    assert (await seen(app, NGINX, {"X-Real-IP": "not an address"}))["ip"] == "10.1.2.3"
    assert (await seen(app, STRANGER, {"X-Real-IP": "198.51.100.9"}))["ip"] == "203.0.113.5"


async def test_single_addresses_and_networks_with_host_bits_are_trusted() -> None:
    app = make_app("192.168.7.7, 10.1.2.99/16")
    headers = {"X-Forwarded-For": "198.51.100.4"}
    assert (await seen(app, ("192.168.7.7", 1), headers))["ip"] == "198.51.100.4"
    assert (await seen(app, ("192.168.7.8", 1), headers))["ip"] == "192.168.7.8"
    assert (await seen(app, NGINX, headers))["ip"] == "198.51.100.4"


async def test_ipv4_peers_on_a_dual_stack_listener_match_ipv4_trust() -> None:
    app = make_app("10.0.0.0/8")
    headers = {"X-Forwarded-For": "198.51.100.4"}
    assert (await seen(app, ("::ffff:10.1.2.3", 1), headers))["ip"] == "198.51.100.4"
    assert (await seen(app, ("::ffff:203.0.113.5", 1), headers))["ip"] == "203.0.113.5"


async def test_ipv6_proxies_and_clients() -> None:
    app = make_app("fd00::/8")
    headers = {"X-Forwarded-For": "2001:db8::42"}
    assert (await seen(app, ("fd00::1", 1), headers))["ip"] == "2001:db8::42"
    assert (await seen(app, ("2001:db8::1", 1), headers))["ip"] == "2001:db8::1"


async def seen_over_socket(app: FastAPI, headers: dict[str, str]) -> str:
    """What the app resolves for a peer on a unix socket (ASGI ``client`` is ``None`` there)."""
    captured: dict[str, object] = {}

    async def recorder(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "client": None}
            captured["scope"] = scope
        await app(scope, receive, send)

    transport = httpx.ASGITransport(app=recorder)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        response = await client.get("/whoami", headers=headers)
    assert response.status_code == 200
    return str(response.json()["ip"])


async def test_a_unix_socket_peer_is_trusted_only_when_configured() -> None:
    headers = {"X-Forwarded-For": "198.51.100.4"}
    assert await seen_over_socket(make_app("unix"), headers) == "198.51.100.4"
    assert await seen_over_socket(make_app("10.0.0.0/8"), headers) == "unknown"
    # "unix" trusts socket peers, not every TCP peer.
    assert (await seen(make_app("unix"), STRANGER, headers))["ip"] == "203.0.113.5"


@pytest.mark.parametrize(
    "chain",
    [
        "attacker-chosen-name",
        "198.51.100.4:8080",
        "[2001:db8::1]:443",
        "198.51.100.4, not-an-ip",
        "fe80::1%eth0",
        "",
        "198.051.100.004",
    ],
)
async def test_a_malformed_chain_is_not_believed(chain: str) -> None:
    app = make_app("10.0.0.0/8")
    assert (await seen(app, NGINX, {"X-Forwarded-For": chain}))["ip"] == "10.1.2.3"


async def test_a_malformed_entry_left_of_the_client_does_not_matter() -> None:
    # Only the hops nginx and the trusted proxies wrote are read.
    app = make_app("10.0.0.0/8")
    headers = {"X-Forwarded-For": "junk, 198.51.100.4"}
    assert (await seen(app, NGINX, headers))["ip"] == "198.51.100.4"


async def test_repeated_x_forwarded_for_headers_are_one_chain() -> None:
    app = make_app("10.0.0.0/8")
    headers = [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "198.51.100.4")]
    assert (await seen(app, NGINX, headers))["ip"] == "198.51.100.4"


async def test_two_x_real_ip_headers_are_not_believed() -> None:
    app = make_app("10.0.0.0/8")
    headers = [("X-Real-IP", "198.51.100.4"), ("X-Real-IP", "6.6.6.6")]
    assert (await seen(app, NGINX, headers))["ip"] == "10.1.2.3"


async def test_an_unknown_forwarded_scheme_is_ignored() -> None:
    app = make_app("10.0.0.0/8")
    body = await seen(app, NGINX, {"X-Forwarded-Proto": "javascript"})
    assert body["scheme"] == "http"


@pytest.fixture
def serve() -> Iterator[Callable[[FastAPI], str]]:
    """Run an app in a real uvicorn server on a free port (its own proxy handling off)."""
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(app: FastAPI) -> str:
        port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, proxy_headers=False, log_level="warning"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        wait_until(lambda: server.started, timeout=10, what="uvicorn")
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def test_over_real_http(serve: Callable[[FastAPI], str]) -> None:
    trusting = serve(make_app("127.0.0.1"))
    distrusting = serve(make_app("10.0.0.0/8"))
    headers = {"X-Forwarded-For": "198.51.100.4"}
    with httpx.Client() as client:
        believed = client.get(f"{trusting}/whoami", headers=headers).json()
        ignored = client.get(f"{distrusting}/whoami", headers=headers).json()
    assert believed["ip"] == "198.51.100.4"
    assert ignored["ip"] == "127.0.0.1"
