"""The one way the app opens Redis: short timeouts, one retry, and a lost connection called that.

Short timeouts: redis-py's default retries ten times with backoff, about
4.4 s before an error surfaces, which would hold every request hostage to an
outage.

One immediate retry on a *connection* error, on a fresh connection: after
Redis restarts, every pooled connection is dead and fails on its first use.
Without the retry each one opened an outage of its own (measured: five more
0.5 s windows of fail-closed 503s in the 2.5 s after Redis was back). A
*timeout* is never retried: the command may well have run (a slow Redis, not
a dead one), and running a write script twice would, say, spend a refresh
token twice and revoke its family, or store a key whose secret nobody
received.

A lost connection called that: under uvloop (the loop Uvicorn picks when it
is installed), writing to a connection the server has already closed raises
``RuntimeError("unable to perform operation on <TCPTransport closed=True>")``
(uvloop#506) where asyncio's own loop reports the lost connection, and
redis-py lets that through. Redis killed while a connection was opening (its
``AUTH`` not yet written) thus became a 500, once in five rounds of about
2,200 requests with a ``kill -9`` in each. ``_ReportClosedTransport`` checks
the transport first and raises what a broken socket raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


class _ReportClosedTransport:
    """Mixed into redis-py's connection classes (TCP, TLS, unix socket)."""

    _writer: Any

    async def _send_packed_command(self, command: Iterable[bytes]) -> None:
        if self._writer.transport.is_closing():
            # An OSError: redis-py drops the connection and raises ConnectionError.
            raise ConnectionResetError("Redis closed the connection")
        await super()._send_packed_command(command)  # type: ignore[misc]


_REPORTING: dict[type[AbstractConnection], type[AbstractConnection]] = {}


def _reporting(connection_class: type[AbstractConnection]) -> type[AbstractConnection]:
    """``connection_class`` with ``_ReportClosedTransport``; one class per original."""
    if connection_class not in _REPORTING:
        name = f"Reporting{connection_class.__name__}"
        _REPORTING[connection_class] = type(name, (_ReportClosedTransport, connection_class), {})
    return _REPORTING[connection_class]


def redis_client(url: str, timeout_seconds: float) -> Redis:
    """A client owning its pool: closing it closes every connection."""
    pool = ConnectionPool.from_url(
        url,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
    )
    # The URL's scheme chose the class (plain, TLS, unix socket); keep that choice.
    pool.connection_class = _reporting(pool.connection_class)
    return Redis.from_pool(pool)
