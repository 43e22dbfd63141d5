"""Header values and syntax, from decisions made by a real limiter."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from app.ratelimit.decision import RateLimitDecision
from app.ratelimit.headers import rate_limit_headers
from app.ratelimit.limiter import Limiter
from auth.rate_limits import parse_rate_limit

pytestmark = pytest.mark.anyio

# draft-ietf-httpapi-ratelimit-headers: a List of Items, each a String with
# Integer parameters (RFC 9651 sf-string, sf-integer).
SF_STRING = r'"(?:[\x20-\x21\x23-\x5b\x5d-\x7e]|\\["\\])*"'
POLICY_ITEM = re.compile(rf"^(?P<name>{SF_STRING});q=(?P<q>\d{{1,15}});w=(?P<w>\d{{1,15}})$")
LIMIT_ITEM = re.compile(rf"^(?P<name>{SF_STRING});r=(?P<r>\d{{1,15}});t=(?P<t>\d{{1,15}})$")


@pytest.fixture
def memory_limiter(make_limiter: Callable[..., Limiter]) -> Limiter:
    return make_limiter()


async def test_an_allowed_decision(memory_limiter: Limiter) -> None:
    await memory_limiter.hit("100/minute", "user:a")
    decision = await memory_limiter.hit("100/minute", "user:a")
    now = time.time()
    headers = rate_limit_headers(decision, "default")

    assert set(headers) == {
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
        "RateLimit-Policy",
        "RateLimit",
    }
    assert headers["X-RateLimit-Limit"] == "100"
    assert headers["X-RateLimit-Remaining"] == "98"
    reset_epoch = int(headers["X-RateLimit-Reset"])
    assert now <= reset_epoch <= now + 3  # the whole quota is back 2 x 0.6 s from now

    policy = POLICY_ITEM.match(headers["RateLimit-Policy"])
    assert policy is not None
    assert (policy["name"], policy["q"], policy["w"]) == ('"default"', "100", "60")
    current = LIMIT_ITEM.match(headers["RateLimit"])
    assert current is not None
    assert (current["name"], current["r"]) == ('"default"', "98")
    assert int(current["t"]) == 2  # a delta, unlike X-RateLimit-Reset


async def test_a_refused_decision_carries_retry_after(memory_limiter: Limiter) -> None:
    for _ in range(3):
        decision = await memory_limiter.hit("2/10 seconds", "user:b")
    assert not decision.allowed
    headers = rate_limit_headers(decision, "key")

    retry_after = int(headers["Retry-After"])
    assert 1 <= retry_after <= 11
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["RateLimit-Policy"] == '"key";q=2;w=10'
    assert headers["RateLimit"] == f'"key";r=0;t={retry_after}'


def test_an_idle_client_has_its_whole_quota_now() -> None:
    decision = RateLimitDecision(True, parse_rate_limit("5/hour"), 5, 0.0, 0, time.time())
    headers = rate_limit_headers(decision, "anonymous")
    assert headers["RateLimit"] == '"anonymous";r=5;t=0'
    assert headers["RateLimit-Policy"] == '"anonymous";q=5;w=3600'


@pytest.mark.parametrize("name", ["", "Default", 'quo"te', "with space", "x" * 65])
def test_policy_names_must_need_no_escaping(name: str) -> None:
    decision = RateLimitDecision(True, parse_rate_limit("5/hour"), 4, 720.0, 0, time.time())
    with pytest.raises(ValueError, match="policy name"):
        rate_limit_headers(decision, name)
