"""An unhandled error is a JSON 500 on a connection that stays usable (behind nginx, the next
request on it may be another client's)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from app.main import create_app
from tests.app.conftest import make_settings
from tests.support.processes import free_port, port_open, wait_until


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    app = create_app(make_settings(tmp_path))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(instance.serve()), daemon=True)
    thread.start()
    wait_until(lambda: port_open(port), timeout=30, what="uvicorn")
    yield port
    instance.should_exit = True
    thread.join(timeout=10)


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65_536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length")))  # fmt: skip
    while len(body) < length:
        body += sock.recv(65_536)
    return head + b"\r\n\r\n" + body


def test_a_500_is_json_and_the_connection_serves_the_next_request(server: int) -> None:
    with socket.create_connection(("127.0.0.1", server), timeout=10) as sock:
        sock.sendall(b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
        first = _answer(sock)
        assert first.startswith(b"HTTP/1.1 500")
        assert first.endswith(b'{"detail":"Internal server error"}')
        assert b"connection: close" not in first.lower()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _answer(sock).startswith(b"HTTP/1.1 200")
