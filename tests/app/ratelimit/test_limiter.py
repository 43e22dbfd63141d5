"""The limiter's core on both storages and both strategies."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import anyio
import pytest

from app.ratelimit.decision import InvalidLimit, RateLimitDecision, parse_limit
from app.ratelimit.limiter import Limiter
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
        assert decision.limit == parse_limit("4/day")
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
    make_limiter: Callable[..., Limiter], redis_url: str, strategy: str
) -> None:
    limiter = make_limiter(strategy, redis_url=redis_url)
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


async def test_limits_of_different_size_on_one_key_are_separate_buckets(limiter: Limiter) -> None:
    await limiter.hit("1/day", "key:k2")
    assert not (await limiter.hit("1/day", "key:k2")).allowed
    assert (await limiter.hit("2/day", "key:k2")).allowed


async def test_redis_limits_live_in_redis(
    make_limiter: Callable[..., Limiter], redis_url: str
) -> None:
    limiter = make_limiter("moving-window", redis_url=redis_url)
    assert limiter.is_shared
    assert await limiter.ping()
    await limiter.hit("5/day", "user:gina")
    assert any("user:gina" in key for key in redis_keys(redis_url))


async def test_two_limiters_on_one_redis_share_buckets(
    make_limiter: Callable[..., Limiter], redis_url: str, strategy: str
) -> None:
    first = make_limiter(strategy, redis_url=redis_url)
    second = make_limiter(strategy, redis_url=redis_url)
    decisions = await asyncio.gather(
        *(first.hit("6/day", "key:shared") for _ in range(10)),
        *(second.hit("6/day", "key:shared") for _ in range(10)),
    )
    assert sum(d.allowed for d in decisions) == 6


def test_limit_strings_are_parsed_once() -> None:
    assert parse_limit("7/minute") is parse_limit("7/minute")
    assert parse_limit("7/minute").amount == 7
    assert parse_limit("7/minute").get_expiry() == 60


@pytest.mark.parametrize("text", ["", "lots", "5/fortnight", "0/minute", "1/second;5/minute"])
def test_anything_but_one_positive_limit_is_refused(text: str) -> None:
    with pytest.raises(InvalidLimit):
        parse_limit(text)


@pytest.mark.parametrize(
    "setting", ["default_rate_limit", "anonymous_rate_limit", "login_failure_limit"]
)
def test_a_limit_setting_that_does_not_parse_stops_the_start_up(setting: str) -> None:
    with pytest.raises(InvalidLimit):
        Limiter.from_settings(make_settings(**{setting: "plenty"}))


async def test_from_settings_uses_redis_only_when_configured(redis_url: str) -> None:
    embedded = Limiter.from_settings(make_settings(redis_url=None))
    shared = Limiter.from_settings(make_settings(redis_url=redis_url))
    try:
        assert not embedded.is_shared
        assert shared.is_shared
        await shared.hit("5/day", "user:hana")
        assert any("user:hana" in key for key in redis_keys(redis_url))
    finally:
        await embedded.aclose()
        await shared.aclose()
