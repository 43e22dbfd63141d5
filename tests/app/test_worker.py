"""app/worker.py: a response's head leaves with its body in one send, and answers stay whole."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn
from uvicorn_worker import UvicornWorker

from app.worker import HeadHoldingTransport, WholeResponseProtocol, Worker
from tests.support.processes import free_port

pytestmark = pytest.mark.anyio

HEAD = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class CountingSocket(socket.socket):
    """A real socket that keeps what each ``send`` call carried."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sends: list[bytes] = []

    def send(self, data: Any, flags: int = 0) -> int:
        sent = super().send(data, flags)
        self.sends.append(bytes(data[:sent]))
        return sent


async def connected() -> tuple[HeadHoldingTransport, CountingSocket, socket.socket]:
    """A ``HeadHoldingTransport`` over one end of a socket pair; the other end to read."""
    ours, theirs = socket.socketpair()
    counting = CountingSocket(ours.family, ours.type, ours.proto, fileno=ours.detach())
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_connection(asyncio.Protocol, sock=counting)
    theirs.settimeout(2)
    return HeadHoldingTransport(transport, loop), counting, theirs


async def test_a_head_leaves_with_the_body_written_after_it() -> None:
    held, counting, theirs = await connected()
    held.write(HEAD)
    assert counting.sends == []
    held.write(b"{}")
    assert counting.sends == [HEAD + b"{}"]
    held.write(b"not a head")  # nothing is held but a response head
    assert counting.sends[-1] == b"not a head"
    held.close()
    theirs.close()


async def test_a_head_alone_leaves_at_the_end_of_the_step() -> None:
    held, counting, theirs = await connected()
    held.write(CONTINUE)
    assert held.get_write_buffer_size() == len(CONTINUE)
    await asyncio.sleep(0)
    assert counting.sends == [CONTINUE]
    assert theirs.recv(100) == CONTINUE
    held.close()
    theirs.close()


async def test_closing_sends_a_held_head_first_and_aborting_drops_it() -> None:
    held, _, theirs = await connected()
    held.write(HEAD)
    held.close()
    await asyncio.sleep(0.05)
    assert theirs.recv(1000) == HEAD
    assert theirs.recv(1000) == b""
    theirs.close()

    held, counting, theirs = await connected()
    held.write(HEAD)
    held.abort()
    await asyncio.sleep(0.05)
    assert counting.sends == []
    assert theirs.recv(1000) == b""
    theirs.close()


async def stream(send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    for chunk in (b"one,", b"two,", b"three"):
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def answer(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Every shape of answer: a body of known length, none (204, HEAD), a chunked stream."""
    if scope["path"] == "/stream":
        await stream(send)
        return
    status = 204 if scope["path"] == "/empty" else 200
    body = b"" if status == 204 else b'{"ok": true}'
    headers = [(b"content-type", b"application/json")]
    if status == 200:
        headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})


@pytest.fixture
async def server_url() -> AsyncIterator[str]:
    port = free_port()
    config = uvicorn.Config(
        answer,
        host="127.0.0.1",
        port=port,
        http=WholeResponseProtocol,
        lifespan="off",
        log_config=None,
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_every_kind_of_answer_arrives_whole_on_one_kept_alive_connection(
    server_url: str,
) -> None:
    limits = httpx.Limits(max_connections=1)
    async with httpx.AsyncClient(base_url=server_url, limits=limits) as client:
        for _ in range(3):
            json_answer = await client.get("/json")
            assert json_answer.json() == {"ok": True}
            assert (await client.head("/json")).headers["content-length"] == "12"
            empty = await client.get("/empty")
            assert (empty.status_code, empty.content) == (204, b"")
            streamed = await client.get("/stream")
            assert streamed.headers["transfer-encoding"] == "chunked"
            assert streamed.content == b"one,two,three"


def test_the_gunicorn_worker_is_uvicorn_s_with_the_whole_response_protocol() -> None:
    assert issubclass(Worker, UvicornWorker)
    assert Worker.CONFIG_KWARGS["http"] is WholeResponseProtocol
    assert Worker.CONFIG_KWARGS["loop"] == UvicornWorker.CONFIG_KWARGS["loop"]
