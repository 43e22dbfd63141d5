"""The limiter's core (GCRA) on both storages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import anyio
import pytest
import redis

from app.ratelimit.decision import RateLimitDecision
from app.ratelimit.limiter import Limiter
from app.ratelimit.local import SWEEP_EVERY, LocalBuckets
from auth.rate_limits import parse_rate_limit
from tests.app.ratelimit.support import make_settings, redis_keys

pytestmark = pytest.mark.anyio


async def test_exactly_n_of_n_plus_k_sequential_hits_are_allowed(limiter: Limiter) -> None:
    decisions = [await limiter.hit("5/day", "user:alice") for _ in range(8)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 3


async def test_exactly_n_of_many_concurrent_hits_are_allowed(limiter: Limiter) -> None:
    decisions = await asyncio.gather(*(limiter.hit("10/day", "key:k1") for _ in range(40)))
    assert sum(d.allowed for d in decisions) == 10


async def test_two_keys_do_not_share_a_bucket(limiter: Limiter) -> None:
    for _ in range(3):
        await limiter.hit("3/day", "user:alice")
    assert not (await limiter.hit("3/day", "user:alice")).allowed
    other = await limiter.hit("3/day", "user:bob")
    assert other.allowed
    assert other.remaining == 2


async def test_keys_that_differ_only_by_a_separator_do_not_collide(limiter: Limiter) -> None:
    # `limits` joins key parts with '/', so an unquoted "a/1" could meet another key.
    await limiter.hit("1/day", "user:a/1/1/day")
    assert (await limiter.hit("1/day", "user:a")).allowed


async def test_remaining_counts_down_and_reset_is_within_the_window(limiter: Limiter) -> None:
    before = time.time()
    decisions = [await limiter.hit("4/day", "user:carol") for _ in range(5)]
    assert [d.remaining for d in decisions] == [3, 2, 1, 0, 0]
    for decision in decisions:
        assert before <= decision.reset_at <= time.time() + 86_400
        assert decision.limit == parse_rate_limit("4/day")
    assert [d.retry_after for d in decisions[:4]] == [0, 0, 0, 0]
    assert 1 <= decisions[4].retry_after <= 86_401


async def refuse(limiter: Limiter, limit: str, key: str) -> RateLimitDecision:
    """Hit until refused (a sliding window may let a hit or two more in at a window's edge)."""
    for _ in range(20):
        decision = await limiter.hit(limit, key)
        if not decision.allowed:
            return decision
    raise AssertionError(f"{limit} never refused {key}")


async def test_waiting_retry_after_is_enough(limiter: Limiter) -> None:
    assert (await limiter.hit("2/second", "user:dave")).allowed
    refused = await refuse(limiter, "2/second", "user:dave")
    assert 1 <= refused.retry_after <= 2
    await anyio.sleep(refused.retry_after)
    assert (await limiter.hit("2/second", "user:dave")).allowed


async def test_retry_after_part_way_through_a_multi_second_window(
    make_limiter: Callable[..., Limiter], redis_url: str
) -> None:
    limiter = make_limiter(redis_url=redis_url)
    assert (await limiter.hit("3/2 second", "user:erin")).allowed
    await anyio.sleep(0.5)
    refused = await refuse(limiter, "3/2 second", "user:erin")
    assert 1 <= refused.retry_after <= 3
    await anyio.sleep(refused.retry_after)
    assert (await limiter.hit("3/2 second", "user:erin")).allowed


async def test_peek_counts_nothing(limiter: Limiter) -> None:
    for _ in range(10):
        peeked = await limiter.peek("3/day", "user:frank")
        assert peeked.allowed
        assert peeked.remaining == 3
    assert [(await limiter.hit("3/day", "user:frank")).allowed for _ in range(4)] == [
        True,
        True,
        True,
        False,
    ]
    assert not (await limiter.peek("3/day", "user:frank")).allowed


async def test_a_changed_limit_applies_within_one_interval_of_the_new_limit(
    limiter: Limiter,
) -> None:
    """One GCRA state per client: editing a limit hands out no fresh burst, and a day-long
    debt under the old limit does not lock the client out of a per-second one for a day."""
    await limiter.hit("1/day", "key:k2")
    assert not (await limiter.hit("1/day", "key:k2")).allowed
    assert not (await limiter.hit("2/day", "key:k2")).allowed
    assert not (await limiter.hit("20/second", "key:k2")).allowed
    await anyio.sleep(0.1)
    assert (await limiter.hit("20/second", "key:k2")).allowed


async def test_a_bucket_is_one_small_key_whatever_the_traffic(
    make_limiter: Callable[..., Limiter], redis_url: str
) -> None:
    """O(1) per client: the moving window kept one entry per request (234 KB for one key)."""
    limiter = make_limiter(redis_url=redis_url)
    await asyncio.gather(*(limiter.hit("10000000/day", "key:busy") for _ in range(2000)))
    client = redis.Redis.from_url(redis_url)
    try:
        (name,) = [key for key in redis_keys(redis_url) if "key:busy" in key]
        assert client.type(name) == b"string"
        assert int(client.memory_usage(name) or 0) < 128
        assert 0 < client.pttl(name) <= 86_400_000
    finally:
        client.close()


async def test_the_in_process_buckets_forget_idle_clients() -> None:
    buckets = LocalBuckets()
    limit = parse_rate_limit("10000000/second")
    for index in range(SWEEP_EVERY + 1):
        buckets.decide(limit, f"client:{index}", consume=True)
    await anyio.sleep(0.01)
    for _ in range(SWEEP_EVERY):
        buckets.decide(limit, "one-more", consume=True)
    assert len(buckets) <= 2


async def test_redis_limits_live_in_redis(
    make_limiter: Callable[..., Limiter], redis_url: str
) -> None:
    limiter = make_limiter(redis_url=redis_url)
    assert limiter.is_shared
    assert await limiter.ping()
    await limiter.hit("5/day", "user:gina")
    assert any("user:gina" in key for key in redis_keys(redis_url))


async def test_two_limiters_on_one_redis_share_buckets(
    make_limiter: Callable[..., Limiter], redis_url: str
) -> None:
    first = make_limiter(redis_url=redis_url)
    second = make_limiter(redis_url=redis_url)
    decisions = await asyncio.gather(
        *(first.hit("6/day", "key:shared") for _ in range(10)),
        *(second.hit("6/day", "key:shared") for _ in range(10)),
    )
    assert sum(d.allowed for d in decisions) == 6


@pytest.mark.parametrize(
    "setting",
    [
        "default_rate_limit",
        "anonymous_rate_limit",
        "login_failure_limit",
        "login_username_failure_limit",
        "auth_failure_limit",
    ],
)
@pytest.mark.parametrize("value", ["plenty", "0/minute", "1 per 99999999999999999999 year"])
def test_a_limit_setting_out_of_bounds_stops_the_start_up(setting: str, value: str) -> None:
    with pytest.raises(ValueError, match=setting):
        make_settings(**{setting: value})
