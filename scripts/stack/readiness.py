"""Bounded waits for the stack's pieces to answer, failing fast when one dies."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from app import local_stack
from scripts.stack.processes import Started, running_pid

POLL_INTERVAL = 0.2


class NotReady(RuntimeError):
    """A piece of the stack died or did not answer in time."""


def wait_for(
    what: str,
    check: Callable[[], bool],
    timeout: float,
    watched: Iterable[Started],
    run_dir: Path,
) -> None:
    """Poll ``check`` until it holds; give up at ``timeout`` or when a watched process exits."""
    watched = list(watched)
    deadline = time.monotonic() + timeout
    while True:
        for process in watched:
            if running_pid(process.name, run_dir) is None:
                raise NotReady(f"{process.name} exited while waiting for {what}")
        if check():
            return
        if time.monotonic() >= deadline:
            raise NotReady(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(POLL_INTERVAL)


def redis_answers(url: str) -> Callable[[], bool]:
    return lambda: local_stack.redis_answers(url, timeout=0.5)


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a unix socket (what nginx speaks to the app)."""

    def __init__(self, path: Path, timeout: float = 2.0) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(str(self.socket_path))
        except OSError:
            sock.close()
            raise
        self.sock = sock


def unix_http_ok(path: Path, target: str) -> Callable[[], bool]:
    """``GET target`` on the app's socket answers 200."""

    def check() -> bool:
        connection = UnixHTTPConnection(path)
        try:
            connection.request("GET", target)
            return connection.getresponse().status == 200
        except OSError:
            return False
        finally:
            connection.close()

    return check


def http_ok(url: str, ca_file: Path | None = None) -> Callable[[], bool]:
    """``url`` answers 200 (over HTTPS, trusting only ``ca_file``)."""
    context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None

    def check() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    return check
