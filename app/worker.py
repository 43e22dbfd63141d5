"""The Gunicorn worker: Uvicorn's, writing each response's head and body to the socket at once.

Uvicorn's HTTP protocol writes a response's status line and headers, then
its body, in two socket writes. A worker killed between the two (the OOM
killer, ``kill -9``) leaves nginx with a response head it has already passed
on to the client: it can neither finish the answer nor retry the request
elsewhere, and the client gets a torn response. Killing one of two workers
under 16 concurrent predictions tore 1 response in 10 rounds (about 12,000
requests), after nginx's retries had removed every other failure.

Here a head is held back until the next write (the body, in the same step
of the event loop: a Starlette response sends both without waiting), and
both go out in one ``send``. A worker that dies leaves nginx with a whole
answer or with none, and a request with none is retried on another
connection (``proxy_next_upstream`` in nginx/nginx.conf.template). A head
with no write after it in the same step (``100 Continue``) goes out at the
end of that step. Answers larger than the socket buffer still go out in
pieces; the predictions and their errors are a few hundred bytes.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn_worker import UvicornWorker

HEAD_START = b"HTTP/1.1 "
"""How every response head Uvicorn writes begins (it answers HTTP/1.0 clients in 1.1 too)."""


class HeadHoldingTransport(asyncio.Transport):
    """A socket transport that sends a response head together with what is written next."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._head: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        chunk = bytes(data)
        if self._head is None and chunk.startswith(HEAD_START):
            self._head = chunk
            self._loop.call_soon(self._release)
            return
        if self._head is not None:
            chunk, self._head = self._head + chunk, None
        self._transport.write(chunk)

    def _release(self) -> None:
        """Send a head still held at the end of the step that wrote it."""
        if self._head is not None:
            head, self._head = self._head, None
            if not self._transport.is_closing():
                self._transport.write(head)

    def close(self) -> None:
        self._release()
        self._transport.close()

    def abort(self) -> None:
        self._head = None
        self._transport.abort()

    def write_eof(self) -> None:
        self._release()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        held = len(self._head) if self._head is not None else 0
        return self._transport.get_write_buffer_size() + held

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()


class WholeResponseProtocol(HttpToolsProtocol):
    """Uvicorn's httptools protocol over a ``HeadHoldingTransport``."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(HeadHoldingTransport(transport, self.loop))


class Worker(UvicornWorker):  # type: ignore[misc]  # untyped: uvicorn-worker ships no stubs
    """``uvicorn_worker.UvicornWorker`` with ``WholeResponseProtocol`` (gunicorn.conf.py)."""

    CONFIG_KWARGS: ClassVar[dict[str, Any]] = {
        **UvicornWorker.CONFIG_KWARGS,
        "http": WholeResponseProtocol,
    }
