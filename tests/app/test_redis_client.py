"""app/redis_client.py: the app's Redis connections under uvloop, across a Redis crash."""

from __future__ import annotations

from typing import Any

import pytest
from redis.asyncio.connection import Connection, SSLConnection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError

from app.redis_client import redis_client
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> tuple[str, dict[str, Any]]:
    """uvloop, as Uvicorn runs the workers when it is installed."""
    return "asyncio", {"use_uvloop": True}


async def test_a_write_to_a_connection_redis_closed_is_a_connection_error(redis_url: str) -> None:
    """Not uvloop's RuntimeError, which went through every handler as a 500."""
    client = redis_client(redis_url, timeout_seconds=1.0)
    try:
        assert await client.ping()
        connection = await client.connection_pool.get_connection()
        connection._writer.transport.abort()  # what Redis dying mid-handshake leaves
        with pytest.raises(RedisConnectionError):
            await connection.send_command("PING")
        await client.connection_pool.release(connection)
        assert await client.ping()  # and the pool goes on with a fresh connection
    finally:
        await client.aclose()


async def test_connections_of_a_killed_redis_are_replaced_on_first_use(
    redis_server: RedisServer, redis_url: str
) -> None:
    client = redis_client(redis_url, timeout_seconds=1.0)
    try:
        pooled = [await client.connection_pool.get_connection() for _ in range(4)]
        for connection in pooled:
            await client.connection_pool.release(connection)
        redis_server.kill()
        redis_server.start()
        for _ in range(4):
            assert await client.ping()
    finally:
        await client.aclose()


def test_the_url_still_chooses_tcp_tls_or_a_unix_socket() -> None:
    for url, kind in [
        ("redis://127.0.0.1:1/0", Connection),
        ("rediss://127.0.0.1:1/0", SSLConnection),
        ("unix:///run/redis.sock", UnixDomainSocketConnection),
    ]:
        connection_class = redis_client(url, timeout_seconds=1.0).connection_pool.connection_class
        assert issubclass(connection_class, kind)
        assert connection_class is not kind
