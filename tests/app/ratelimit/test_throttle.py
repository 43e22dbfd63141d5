"""The password-guessing throttle: its buckets, and through the real ``POST /token``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ratelimit.limiter import Limiter
from app.ratelimit.throttle import LoginThrottle
from auth.rate_limits import parse_rate_limit
from tests.app.conftest import ADMIN, ADMIN_PASSWORD, make_settings
from tests.app.ratelimit.support import redis_keys


def make_throttle(limiter: Limiter, pair: str = "3/day", user: str = "10/day") -> LoginThrottle:
    return LoginThrottle(
        limiter,
        per_client_and_user=parse_rate_limit(pair),
        per_user=parse_rate_limit(user),
        per_client=parse_rate_limit("100/day"),
    )


@pytest.fixture
def throttle(limiter: Limiter) -> LoginThrottle:
    return make_throttle(limiter)


@pytest.mark.anyio
async def test_one_clients_failures_lock_that_client_out_of_that_account_only(
    throttle: LoginThrottle,
) -> None:
    for _ in range(3):
        assert (await throttle.check("198.51.100.7", "victim")).allowed
        await throttle.record_failure("198.51.100.7", "victim")
    locked = await throttle.check("198.51.100.7", "victim")
    assert not locked.allowed
    assert locked.retry_after >= 1
    # The owner, elsewhere, still gets in; the guesser may still try other names.
    assert (await throttle.check("198.51.100.8", "victim")).allowed
    assert (await throttle.check("198.51.100.7", "someone-else")).allowed


@pytest.mark.anyio
async def test_a_guess_spread_over_many_addresses_is_still_bounded(
    throttle: LoginThrottle,
) -> None:
    for n in range(10):
        await throttle.record_failure(f"192.0.2.{n + 1}", "victim")
    assert not (await throttle.check("192.0.2.200", "victim")).allowed
    assert (await throttle.check("192.0.2.200", "bystander")).allowed


@pytest.mark.anyio
async def test_checking_costs_nothing(throttle: LoginThrottle) -> None:
    for _ in range(2):
        await throttle.record_failure("198.51.100.9", "dora")
    for _ in range(50):  # successful logins: checked, never recorded
        decision = await throttle.check("198.51.100.9", "dora")
        assert decision.allowed
        assert decision.remaining == 1
    await throttle.record_failure("198.51.100.9", "dora")
    assert not (await throttle.check("198.51.100.9", "dora")).allowed


@pytest.mark.anyio
async def test_known_and_unknown_usernames_are_throttled_identically(
    make_limiter: Callable[..., Limiter], redis_url: str
) -> None:
    throttle = make_throttle(make_limiter(redis_url=redis_url))
    histories = {}
    for username, address in (("alice", "192.0.2.1"), ("no-such-user-3f9", "192.0.2.2")):
        history = []
        for _ in range(5):
            decision = await throttle.check(address, username)
            history.append((decision.allowed, decision.remaining))
            await throttle.record_failure(address, username)
        histories[username] = history
    assert histories["alice"] == histories["no-such-user-3f9"]
    keys = redis_keys(redis_url)
    assert keys  # the counts are in Redis ...
    assert not any("alice" in key or "no-such-user" in key for key in keys)  # ... names are not


@pytest.mark.anyio
async def test_case_and_width_variants_of_a_username_share_its_bucket(
    throttle: LoginThrottle,
) -> None:
    fullwidth = "\uff41\uff4c\uff49\uff43\uff45"  # "alice" in fullwidth letters
    for variant in ("Alice", "ALICE", fullwidth):
        await throttle.record_failure("192.0.2.1", variant)
    assert not (await throttle.check("192.0.2.1", "alice")).allowed


@pytest.mark.anyio
async def test_an_ipv6_subscriber_cannot_rotate_addresses_within_its_64(
    throttle: LoginThrottle,
) -> None:
    for n in range(3):
        await throttle.record_failure(f"2001:db8:aa:bb::{n + 1:x}", "target")
    assert not (await throttle.check("2001:db8:aa:bb:ffff::1", "target")).allowed
    assert (await throttle.check("2001:db8:aa:bc::1", "target")).allowed


# Through the real endpoint, on both stores.


@pytest.fixture(params=["sqlite", "redis"])
def token_api(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[TestClient]:
    overrides: dict[str, Any] = {
        "login_failure_limit": "3/day",
        "login_username_failure_limit": "5/day",
        "auth_failure_limit": "100/day",
        "anonymous_rate_limit": "1000/minute",
    }
    if request.param == "redis":
        overrides["redis_url"] = request.getfixturevalue("redis_url")
    with TestClient(create_app(make_settings(tmp_path / "state", **overrides))) as client:
        yield client


def login(client: TestClient, password: str) -> Any:
    form = {"grant_type": "password", "username": ADMIN, "password": password}
    return client.post("/token", data=form)


def test_the_real_token_endpoint_counts_failures_and_locks_the_guesser(
    token_api: TestClient,
) -> None:
    assert [login(token_api, "wrong-guess").status_code for _ in range(3)] == [400] * 3
    locked = login(token_api, "wrong-guess")
    assert locked.status_code == 429
    assert locked.json()["error"] == "slow_down"
    assert locked.headers["RateLimit-Policy"] == '"login";q=3;w=86400'
    assert int(locked.headers["Retry-After"]) >= 1
    # Even the right password is not verified while the guesser is locked out.
    assert login(token_api, ADMIN_PASSWORD).status_code == 429


def test_successful_logins_never_lock_anyone_out(token_api: TestClient) -> None:
    assert [login(token_api, ADMIN_PASSWORD).status_code for _ in range(8)] == [200] * 8
