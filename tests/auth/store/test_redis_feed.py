"""What only the Redis change feed promises: delivery across clients within 100 ms, and
never a silent gap (a dropped connection, a restart or a stalled Redis is noticed)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from auth.store.redis import RedisCredentialStore
from tests.auth.store.recorder import eventually, following
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio


def app_like_client(url: str) -> Redis:
    """Short timeouts and one retry on a connection error, as ``app.backends`` builds it."""
    return Redis.from_url(
        url,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(RedisConnectionError,)),
    )


async def test_another_client_hears_a_change_within_100_ms(redis_url: str) -> None:
    writer_client, reader_client = Redis.from_url(redis_url), app_like_client(redis_url)
    try:
        writer, reader = RedisCredentialStore(writer_client), RedisCredentialStore(reader_client)
        async with following(reader) as recorder:
            await writer.revoke_access_token("j", datetime.now(UTC) + timedelta(minutes=5))
            assert await eventually(lambda: "jti:j" in recorder.names) < 0.1
    finally:
        await writer_client.aclose()
        await reader_client.aclose()


async def test_a_dropped_subscription_is_lost_then_resynced(own_redis: RedisServer) -> None:
    """redis-py reconnects by itself: the feed must still say changes may have been missed."""
    client, admin = app_like_client(own_redis.url), Redis.from_url(own_redis.url)
    try:
        async with following(RedisCredentialStore(client)) as recorder:
            assert await admin.client_kill_filter(_type="pubsub") == 1
            await eventually(lambda: recorder.losses > 0 and recorder.resyncs > 1)
    finally:
        await client.aclose()
        await admin.aclose()


async def test_a_restart_is_lost_then_resynced_and_logged_once(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = app_like_client(own_redis.url)
    try:
        async with following(RedisCredentialStore(client)) as recorder:
            own_redis.stop()
            await eventually(lambda: recorder.losses > 0)
            await asyncio.sleep(1.2)  # a few retries, each failing
            own_redis.start()
            await eventually(lambda: recorder.resyncs > 1)
    finally:
        await client.aclose()
    said = [r.getMessage() for r in caplog.records if r.name == "auth.store.redis.feed"]
    assert [m.split(" (")[0].split(" after")[0] for m in said] == [
        "credential change feed lost",
        "credential change feed back",
    ]


async def test_a_silent_redis_is_given_up_on(own_redis: RedisServer) -> None:
    """A stalled server (or a partition) closes nothing: the unanswered PING tells."""
    client, admin = app_like_client(own_redis.url), Redis.from_url(own_redis.url)
    try:
        async with following(RedisCredentialStore(client)) as recorder:
            await admin.execute_command("CLIENT", "PAUSE", "5000", "ALL")
            waited = await eventually(lambda: recorder.losses > 0, timeout=6)
            assert waited < 4.5
    finally:
        await admin.execute_command("CLIENT", "UNPAUSE")
        await client.aclose()
        await admin.aclose()
