"""Following the ``changes`` channel: how a process hears of changes made by any other.

Redis pub/sub delivers at most once: a message published while the
subscriber's connection is down is gone. So the feed never claims more than
it knows. It calls ``resync()`` on every subscription confirmation (the
first, and the one that follows any reconnection, including one redis-py
makes on its own), ``lost()`` as soon as the connection fails, and
``confirm()`` on every answer to the ``PING`` it sends each second: Redis
answers a connection's commands in order, so a ``PONG`` proves every message
published before the ``PING`` has already arrived. A connection that stays
open but goes silent (a network partition) is given up after
``PONG_TIMEOUT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from typing import Any

from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from auth.cancellation import stop_if_cancelled
from auth.store.changes import ChangeListener
from auth.store.redis.base import RedisStoreBase, text

logger = logging.getLogger(__name__)

PING_SECONDS = 1.0
PING_MESSAGE = "changes"
PONG_TIMEOUT_SECONDS = 3.0
RETRY_SECONDS = 0.5


class RedisChangeFeed(RedisStoreBase):
    async def follow_changes(self, listener: ChangeListener) -> None:
        self._fanout.add(listener)
        outage = _Outage()
        try:
            while True:
                stop_if_cancelled()  # see auth.cancellation
                try:
                    await self._follow(listener, outage)
                except (RedisError, OSError) as exc:
                    outage.began(exc)
                listener.lost()
                await asyncio.sleep(RETRY_SECONDS)
        finally:
            listener.lost()
            self._fanout.remove(listener)

    async def _follow(self, listener: ChangeListener, outage: _Outage) -> None:
        pubsub = self._redis.pubsub()
        watch = _ReconnectWatch(listener)
        try:
            await pubsub.subscribe(self._names.changes)
            outage.ended()
            if pubsub.connection is not None:
                pubsub.connection.register_connect_callback(watch.reconnected)
            await self._listen(pubsub, listener)
        finally:
            if pubsub.connection is not None:
                pubsub.connection.deregister_connect_callback(watch.reconnected)
            await pubsub.aclose()  # type: ignore[no-untyped-call]  # untyped in redis-py

    async def _listen(self, pubsub: PubSub, listener: ChangeListener) -> None:
        pings: deque[float] = deque()
        next_ping = time.monotonic()
        while True:
            stop_if_cancelled()  # see auth.cancellation
            now = time.monotonic()
            if now >= next_ping:
                if pings and now - pings[0] > PONG_TIMEOUT_SECONDS:
                    raise RedisConnectionError("no answer to PING on the change feed")
                pings.append(now)
                await pubsub.ping(PING_MESSAGE)
                next_ping = now + PING_SECONDS
            response = await pubsub.parse_response(
                block=False, timeout=max(0.0, next_ping - time.monotonic())
            )
            if response is not None:
                _deliver(response, pings, listener)


def _deliver(response: Any, pings: deque[float], listener: ChangeListener) -> None:
    """One raw reply: ``[kind, channel, data]``, or the bare answer to a ``PING``.

    Read raw because redis-py 8.1's ``get_message`` fails on a ``PING`` answer
    when the client decodes responses.
    """
    kind = text(response[0]) if isinstance(response, list) else "pong"
    if kind == "subscribe":
        pings.clear()
        listener.resync()
    elif kind == "message":
        listener.invalidate(json.loads(response[2]))
    elif kind == "pong" and pings:
        listener.confirm(pings.popleft())


class _Outage:
    """One log line when the feed is lost, one when it is back: not one per retry."""

    def __init__(self) -> None:
        self._since: float | None = None

    def began(self, error: BaseException) -> None:
        if self._since is None:
            self._since = time.monotonic()
            logger.warning(
                "credential change feed lost (%s): the cache asks Redis until it is back",
                type(error).__name__,
            )

    def ended(self) -> None:
        if self._since is not None:
            logger.warning(
                "credential change feed back after %.1f s", time.monotonic() - self._since
            )
            self._since = None


class _ReconnectWatch:
    """redis-py reconnects (and resubscribes) by itself after a broken read: from that
    moment until the new subscription is confirmed, changes go unheard."""

    def __init__(self, listener: ChangeListener) -> None:
        self._listener = listener

    async def reconnected(self, connection: object) -> None:
        self._listener.lost()
