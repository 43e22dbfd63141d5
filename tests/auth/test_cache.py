"""The principal cache itself: when it may answer, what it keeps, how long it outlives an outage."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from auth.cache import CredentialCache, Fact
from auth.context import AuthContext
from auth.store.redis import RedisCredentialStore
from tests.auth.conftest import build_context
from tests.auth.store.recorder import eventually
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio

PASSWORD = "long enough passphrase"


class Loader:
    """What a store would answer, counted; optionally doing something while it "reads"."""

    def __init__(self, facts: Mapping[str, Fact | None]) -> None:
        self.facts = dict(facts)
        self.calls = 0
        self.during: list[object] = []

    async def __call__(self) -> Mapping[str, Fact | None]:
        self.calls += 1
        for action in self.during:
            action()  # type: ignore[operator]
        return dict(self.facts)


def following_cache(**options: float) -> CredentialCache:
    cache = CredentialCache(**options)  # type: ignore[arg-type]
    cache.resync()
    return cache


async def test_it_answers_only_while_following_and_confirmed() -> None:
    cache = CredentialCache(trust_seconds=0.2)
    load = Loader({"jti:a": False})
    await cache.read(["jti:a"], load)
    await cache.read(["jti:a"], load)
    assert load.calls == 2  # never followed: every read asks the store
    cache.resync()
    await cache.read(["jti:a"], load)
    await cache.read(["jti:a"], load)
    assert load.calls == 3
    await asyncio.sleep(0.25)  # no confirmation for longer than trust_seconds
    await cache.read(["jti:a"], load)
    assert load.calls == 4
    cache.confirm(time.monotonic())
    await cache.read(["jti:a"], load)
    assert load.calls == 4
    cache.lost()
    await cache.read(["jti:a"], load)
    assert load.calls == 5


async def test_invalidate_and_resync_forget() -> None:
    cache = following_cache()
    load = Loader({"jti:a": False, "jti:b": True})
    await cache.read(["jti:a", "jti:b"], load)
    cache.invalidate(["jti:a"])
    assert await cache.read(["jti:b"], load) == {"jti:b": True}
    assert load.calls == 1
    await cache.read(["jti:a"], load)
    assert load.calls == 2
    cache.resync()
    await cache.read(["jti:b"], load)
    assert load.calls == 3


async def test_a_read_overtaken_by_a_change_is_not_kept() -> None:
    """The store answered before the change, the change arrived first: keep nothing."""
    cache = following_cache()
    load = Loader({"key:d": True})
    load.during.append(lambda: cache.invalidate(["key:d"]))
    await cache.read(["key:d"], load)
    load.during.clear()
    await cache.read(["key:d"], load)
    assert load.calls == 2


async def test_what_does_not_exist_is_not_kept() -> None:
    cache = following_cache()
    load = Loader({"key:unknown": None})
    for _ in range(3):
        assert await cache.read(["key:unknown"], load) == {"key:unknown": None}
    assert load.calls == 3


async def test_the_size_is_bounded_least_recently_used_out_first() -> None:
    cache = following_cache(max_entries=2)
    for name in ("jti:a", "jti:b"):
        await cache.read([name], Loader({name: False}))
    await cache.read(["jti:a"], Loader({}))  # a hit: a is now the most recent
    await cache.read(["jti:c"], Loader({"jti:c": False}))
    load = Loader({"jti:b": False})
    await cache.read(["jti:a", "jti:c"], load)
    assert load.calls == 0
    await cache.read(["jti:b"], load)
    assert load.calls == 1


def stale_answers() -> float:
    return REGISTRY.get_sample_value("auth_cache_stale_answers_total") or 0.0


async def down() -> Mapping[str, Fact | None]:
    """A store that does not answer."""
    raise RedisConnectionError("down")


async def cache_in_an_outage(stale_seconds: float) -> CredentialCache:
    """A cache holding ``key:d``, whose feed just broke."""
    cache = following_cache(stale_seconds=stale_seconds)
    await cache.read(["key:d"], Loader({"key:d": True}))
    cache.lost()
    return cache


async def test_an_outage_is_bridged_for_stale_seconds_then_refused() -> None:
    cache = await cache_in_an_outage(stale_seconds=0.3)
    before = stale_answers()
    assert await cache.read(["key:d"], down) == {"key:d": True}
    assert stale_answers() == before + 1
    with pytest.raises(RedisError):
        await cache.read(["key:other"], down)  # nothing cached to answer with
    await asyncio.sleep(0.3)
    with pytest.raises(RedisError):
        await cache.read(["key:d"], down)
    assert stale_answers() == before + 1


async def test_zero_stale_seconds_refuses_at_once() -> None:
    cache = await cache_in_an_outage(stale_seconds=0)
    with pytest.raises(RedisError):
        await cache.read(["key:d"], down)


# the same, end to end: a real Redis stopped under a started context


async def outage_context(server: RedisServer, stale_seconds: float) -> tuple[AuthContext, Redis]:
    client = Redis.from_url(server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    context = build_context(RedisCredentialStore(client), cache_stale_seconds=stale_seconds)
    context.start()
    await eventually(lambda: context.cache.trusted)
    return context, client


@pytest.mark.parametrize("stale_seconds", [2.5, 0.0])
async def test_redis_down_keeps_cached_credentials_for_the_window_only(
    own_redis: RedisServer, stale_seconds: float
) -> None:
    """The window runs from the last proof of completeness (a PING answered, up to a
    second before Redis went), so the credential works right after and not after it."""
    context, client = await outage_context(own_redis, stale_seconds)
    try:
        issued = await context.keys.create("k", ["predict"], "10/second")
        await context.users.create("alice", PASSWORD, ["predict"])
        grant = await context.tokens.password_grant("alice", PASSWORD)
        assert await context.principals.from_api_key(issued.secret) is not None
        assert await context.principals.from_access_token(grant.access_token) is not None

        own_redis.stop()
        await eventually(lambda: not context.cache.trusted)
        before = stale_answers()
        if stale_seconds:
            assert await context.principals.from_api_key(issued.secret) is not None
            assert await context.principals.from_access_token(grant.access_token) is not None
            assert stale_answers() == before + 2
            await asyncio.sleep(stale_seconds)
        with pytest.raises(RedisError):
            await context.principals.from_api_key(issued.secret)
        with pytest.raises(RedisError):
            await context.principals.from_access_token(grant.access_token)
        assert stale_answers() == before + (2 if stale_seconds else 0)
    finally:
        own_redis.start()
        await context.close()
        await client.aclose()
