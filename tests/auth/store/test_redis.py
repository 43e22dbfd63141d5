"""What only the Redis adapter promises: key prefix, expiring revocations, capped audit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from auth.store.base import AuditEvent, SpendOutcome
from auth.store.redis import RedisCredentialStore
from tests.auth.store.test_contract import key, refresh, user
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[Redis]:
    redis = Redis.from_url(redis_url)
    yield redis
    await redis.aclose()


async def test_every_key_carries_the_prefix(client: Redis) -> None:
    store = RedisCredentialStore(client, key_prefix="tenant-a:")
    await store.create_user(user())
    await store.create_key(key())
    await store.add_refresh_token(refresh())
    await store.revoke_access_token("jti", datetime.now(UTC) + timedelta(minutes=5))
    await store.append_audit(AuditEvent(datetime.now(UTC), "a", "b", "c", None))
    names = [name async for name in client.scan_iter()]
    assert len(names) >= 8
    assert all(name.startswith(b"tenant-a:") for name in names)


async def test_a_user_stored_without_an_id_gets_one_once(client: Redis) -> None:
    """Users written before users had ids keep working, each with one stable id."""
    await client.hset(
        "hapi:user:old", mapping={"password_hash": "h", "scopes": "predict", "created_at": "1"}
    )
    await client.sadd("hapi:users", "old")
    store = RedisCredentialStore(client)
    first = await store.get_user("old")
    assert first is not None
    assert first.user_id
    assert [u.user_id for u in await store.list_users()] == [first.user_id]
    assert await client.get(f"hapi:user-id:{first.user_id}") == b"old"
    assert await store.delete_user("old", datetime.now(UTC)) is True
    assert await client.exists(f"hapi:user-id:{first.user_id}") == 0


async def test_two_prefixes_do_not_see_each_other(client: Redis) -> None:
    await RedisCredentialStore(client, key_prefix="a:").create_user(user())
    assert await RedisCredentialStore(client, key_prefix="b:").get_user("alice") is None


async def test_a_revoked_jti_expires_with_its_token(client: Redis) -> None:
    store = RedisCredentialStore(client)
    await store.revoke_access_token("jti", datetime.now(UTC) + timedelta(seconds=300))
    ttl_ms = await client.pttl("hapi:revoked-jti:jti")
    assert 290_000 < ttl_ms <= 300_000


async def test_refresh_tokens_and_families_expire(client: Redis) -> None:
    store = RedisCredentialStore(client)
    await store.create_user(user())
    token = refresh(expires_at=datetime.now(UTC) + timedelta(hours=1))
    await store.add_refresh_token(token)
    for name in (
        f"hapi:refresh:{token.digest}",
        f"hapi:family:{token.family_id}",
        f"hapi:user-families:{token.user_id}",
    ):
        assert 3_590_000 < await client.pttl(name) <= 3_600_000


async def test_the_audit_list_is_capped(client: Redis) -> None:
    store = RedisCredentialStore(client, audit_capacity=3)
    now = datetime.now(UTC)
    for i in range(5):
        await store.append_audit(AuditEvent(now, "admin", f"action-{i}", "t", None))
    assert [e.action for e in await store.list_audit(10)] == ["action-4", "action-3", "action-2"]


async def test_scripts_survive_a_server_restart(redis_server: RedisServer, redis_url: str) -> None:
    """After a restart the script cache is empty; the adapter must reload, not fail."""
    # One retry, so the pooled connection the restart broke is replaced.
    client = Redis.from_url(redis_url, retry=Retry(NoBackoff(), 1))
    try:
        store = RedisCredentialStore(client)
        await store.create_user(user())
        await store.add_refresh_token(refresh())
        redis_server.restart()
        token = refresh()
        await store.add_refresh_token(token)
        spent = await store.spend_refresh_token(token.digest, datetime.now(UTC))
    finally:
        await client.aclose()
    assert spent.outcome is SpendOutcome.SPENT
