"""The embedded server (`housing-api serve`, what `make run` starts) cuts off slow headers."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.service import serve

HEADER_TIMEOUT = 1.0


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    settings = {"HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT), "ENV": "development"}
    with serve(tmp_path, settings) as service:
        yield service.port


def _closed_after(sock: socket.socket, limit: float) -> float:
    started = time.monotonic()
    sock.settimeout(limit)
    while sock.recv(1024):  # an error answer, if any, then the close
        pass
    return time.monotonic() - started


def test_a_connection_that_never_finishes_its_headers_is_closed(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        took = _closed_after(sock, HEADER_TIMEOUT * 5)
    assert took < HEADER_TIMEOUT * 3


def test_trickling_bytes_does_not_keep_it_open(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        closed_at = None
        for _ in range(16):  # four times the deadline, a header line every quarter of it
            time.sleep(HEADER_TIMEOUT / 4)
            try:
                sock.sendall(b"X-Slow: 1\r\n")
                sock.settimeout(0.01)
                if sock.recv(1024) == b"":
                    closed_at = time.monotonic()
                    break
            except TimeoutError:
                continue
            except OSError:
                closed_at = time.monotonic()
                break
    assert closed_at is not None
    assert closed_at - started < HEADER_TIMEOUT * 2.5


def test_a_kept_alive_connection_gets_a_fresh_deadline_per_request(served: int) -> None:
    with socket.create_connection(("127.0.0.1", served)) as sock:
        for _ in range(2):
            time.sleep(HEADER_TIMEOUT / 2)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.settimeout(5)
            answer = b""
            while b'{"status":"ok"}' not in answer:
                answer += sock.recv(4096)
            assert answer.startswith(b"HTTP/1.1 200 OK")
