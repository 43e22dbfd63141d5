"""The password-guessing throttle on both storages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from app.ratelimit.limiter import Limiter
from app.ratelimit.throttle import LoginThrottle
from tests.app.ratelimit.support import redis_keys

pytestmark = pytest.mark.anyio

LIMIT = "10/minute"


@pytest.fixture
def throttle(limiter: Limiter) -> LoginThrottle:
    return LoginThrottle(limiter, LIMIT)


async def test_ten_failures_from_one_address_lock_that_address_only(
    throttle: LoginThrottle,
) -> None:
    for n in range(10):
        assert (await throttle.check("198.51.100.7", f"user{n}")).allowed
        await throttle.record_failure("198.51.100.7", f"user{n}")
    locked = await throttle.check("198.51.100.7", "someone-new")
    assert not locked.allowed
    assert 1 <= locked.retry_after <= 61
    assert (await throttle.check("198.51.100.8", "user0")).allowed


async def test_ten_failures_on_one_username_from_many_addresses_lock_that_username(
    throttle: LoginThrottle,
) -> None:
    for n in range(10):
        await throttle.record_failure(f"192.0.2.{n + 1}", "victim")
    assert not (await throttle.check("192.0.2.200", "victim")).allowed
    assert (await throttle.check("192.0.2.200", "bystander")).allowed


async def test_checking_costs_nothing(throttle: LoginThrottle) -> None:
    for _ in range(9):
        await throttle.record_failure("198.51.100.9", "dora")
    for _ in range(50):  # successful logins: checked, never recorded
        decision = await throttle.check("198.51.100.9", "dora")
        assert decision.allowed
        assert decision.remaining == 1
    await throttle.record_failure("198.51.100.9", "dora")
    assert not (await throttle.check("198.51.100.9", "dora")).allowed


async def test_the_tighter_bucket_is_reported(throttle: LoginThrottle) -> None:
    for n in range(4):
        await throttle.record_failure(f"192.0.2.{n + 1}", "erik")
    decision = await throttle.check("192.0.2.1", "erik")
    assert decision.allowed
    assert decision.remaining == 6  # the username's bucket, not the address's 9


async def test_known_and_unknown_usernames_are_throttled_identically(
    make_limiter: Callable[..., Limiter], redis_url: str
) -> None:
    throttle = LoginThrottle(make_limiter("moving-window", redis_url=redis_url), LIMIT)
    histories = {}
    for username, address in (("alice", "192.0.2.1"), ("no-such-user-3f9", "192.0.2.2")):
        history = []
        for _ in range(11):
            decision = await throttle.check(address, username)
            history.append((decision.allowed, decision.remaining))
            await throttle.record_failure(address, username)
        histories[username] = history
    assert histories["alice"] == histories["no-such-user-3f9"]
    keys = redis_keys(redis_url)
    assert keys  # the counts are in Redis ...
    assert not any("alice" in key or "no-such-user" in key for key in keys)  # ... names are not


async def test_case_and_width_variants_of_a_username_share_its_bucket(
    throttle: LoginThrottle,
) -> None:
    fullwidth = "\uff41\uff4c\uff49\uff43\uff45"  # "alice" in fullwidth letters
    variants = ["Alice", "ALICE", "alice", fullwidth, "aLiCe"] * 2
    for n, variant in enumerate(variants):
        await throttle.record_failure(f"192.0.2.{n + 1}", variant)
    assert not (await throttle.check("192.0.2.99", "alice")).allowed


async def test_an_ipv6_subscriber_cannot_rotate_addresses_within_its_64(
    throttle: LoginThrottle,
) -> None:
    for n in range(10):
        await throttle.record_failure(f"2001:db8:aa:bb::{n + 1:x}", f"user{n}")
    assert not (await throttle.check("2001:db8:aa:bb:ffff::1", "fresh")).allowed
    assert (await throttle.check("2001:db8:aa:bc::1", "fresh")).allowed


def test_a_bad_limit_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="rate limit"):
        LoginThrottle(Limiter(), "ten per minute")
