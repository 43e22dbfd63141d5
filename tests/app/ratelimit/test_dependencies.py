"""The dependencies through real HTTP requests: real auth, real Redis, real headers."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.ratelimit.limiter import Limiter
from auth.context import AuthContext
from tests.app.ratelimit.app_under_test import PASSWORD, auth_context, build_app
from tests.app.ratelimit.support import make_settings
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio

RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
)
CLIENT = ("203.0.113.7", 40000)

AppFactory = Callable[..., FastAPI]


@pytest.fixture
async def auth(tmp_path: Path) -> AsyncIterator[AuthContext]:
    context = auth_context(tmp_path)
    await context.users.create("alice", PASSWORD, ["predict"])
    await context.users.create("carol", PASSWORD, ["predict"])
    yield context
    await context.close()


@pytest.fixture
async def make_app(auth: AuthContext, redis_url: str) -> AsyncIterator[AppFactory]:
    """Apps on the real Redis; settings overridable per test."""
    limiters: list[Limiter] = []

    def make(**overrides: Any) -> FastAPI:
        values: dict[str, Any] = {
            "redis_url": redis_url,
            "redis_timeout_seconds": 5,
            "default_rate_limit": "3/minute",
            "anonymous_rate_limit": "100/minute",
            "login_failure_limit": "3/minute",
            "rate_limit_strategy": "moving-window",
            "rate_limit_outage_policy": "fail-open",
            **overrides,
        }
        settings = make_settings(**values)
        limiters.append(Limiter.from_settings(settings))
        return build_app(limiters[-1], settings, auth)

    yield make
    for limiter in limiters:
        await limiter.aclose()


def http(app: FastAPI, client: tuple[str, int] = CLIENT) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=client)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def bearer(auth: AuthContext, username: str) -> dict[str, str]:
    grant = await auth.tokens.password_grant(username, PASSWORD)
    return {"Authorization": f"Bearer {grant.access_token}"}


async def api_key(auth: AuthContext, rate_limit: str) -> tuple[str, dict[str, str]]:
    issued = await auth.keys.create("client", ["predict"], rate_limit)
    return issued.record.id, {"X-API-Key": issued.secret}


def assert_headers(response: httpx.Response, policy: str, quota: int, window: int) -> None:
    for name in RATE_LIMIT_HEADERS:
        assert len(response.headers.get_list(name)) == 1, name
    remaining = int(response.headers["X-RateLimit-Remaining"])
    reset = int(response.headers["X-RateLimit-Reset"])
    assert response.headers["X-RateLimit-Limit"] == str(quota)
    assert time.time() - 1 <= reset <= time.time() + window + 1  # epoch seconds
    assert response.headers["RateLimit-Policy"] == f'"{policy}";q={quota};w={window}'
    match = re.fullmatch(rf'"{policy}";r=(\d+);t=(\d+)', response.headers["RateLimit"])
    assert match is not None, response.headers["RateLimit"]
    assert int(match[1]) == remaining
    assert 0 <= int(match[2]) <= window


async def test_a_token_user_gets_the_default_limit(make_app: AppFactory, auth: AuthContext) -> None:
    headers = await bearer(auth, "alice")
    async with http(make_app()) as client:
        responses = [await client.post("/v1/predict", headers=headers) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    for response, remaining in zip(responses[:3], ["2", "1", "0"], strict=True):
        assert_headers(response, "default", 3, 60)
        assert response.headers["X-RateLimit-Remaining"] == remaining
        assert "Retry-After" not in response.headers

    refused = responses[3]
    assert refused.json() == {"detail": "rate limit exceeded: 3 per 1 minute"}
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 61
    assert_headers(refused, "default", 3, 60)
    assert refused.headers["RateLimit"] == f'"default";r=0;t={retry_after}'


async def test_an_api_key_gets_its_own_limit_and_its_own_bucket(
    make_app: AppFactory, auth: AuthContext
) -> None:
    _, key_headers = await api_key(auth, "2/minute")
    user_headers = await bearer(auth, "alice")
    async with http(make_app()) as client:
        by_key = [await client.post("/v1/predict", headers=key_headers) for _ in range(3)]
        by_user = await client.post("/v1/predict", headers=user_headers)
    assert [r.status_code for r in by_key] == [200, 200, 429]
    assert_headers(by_key[0], "key", 2, 60)
    assert by_key[2].json() == {"detail": "rate limit exceeded: 2 per 1 minute"}
    assert by_user.status_code == 200
    assert by_user.headers["X-RateLimit-Remaining"] == "2"


async def test_a_client_is_counted_by_credential_not_by_address(
    make_app: AppFactory, auth: AuthContext
) -> None:
    _, first_key = await api_key(auth, "2/minute")
    _, second_key = await api_key(auth, "2/minute")
    app = make_app()
    async with http(app, ("198.51.100.1", 1)) as one, http(app, ("198.51.100.2", 2)) as two:
        assert (await one.post("/v1/predict", headers=first_key)).status_code == 200
        assert (await two.post("/v1/predict", headers=first_key)).status_code == 200
        assert (await one.post("/v1/predict", headers=first_key)).status_code == 429
        assert (await one.post("/v1/predict", headers=second_key)).status_code == 200


async def test_an_unauthenticated_request_is_401_and_counts_nothing(
    make_app: AppFactory, auth: AuthContext
) -> None:
    async with http(make_app()) as client:
        for _ in range(5):
            response = await client.post("/v1/predict")
            assert response.status_code == 401
            assert not any(name in response.headers for name in RATE_LIMIT_HEADERS)
        allowed = await client.post("/v1/predict", headers=await bearer(auth, "alice"))
    assert allowed.headers["X-RateLimit-Remaining"] == "2"


async def test_responses_the_route_builds_itself_still_carry_the_headers(
    make_app: AppFactory, auth: AuthContext
) -> None:
    headers = await bearer(auth, "alice")
    async with http(make_app()) as client:
        no_content = await client.delete("/admin/keys/k1", headers=headers)
        not_found = await client.get("/admin/keys/k1", headers=headers)
    assert no_content.status_code == 204
    assert_headers(no_content, "default", 3, 60)
    assert not_found.status_code == 404
    assert_headers(not_found, "default", 3, 60)
    assert not_found.headers["X-RateLimit-Remaining"] == "1"


async def test_anonymous_endpoints_are_limited_per_address(make_app: AppFactory) -> None:
    app = make_app(anonymous_rate_limit="2/minute")
    form = {"username": "nobody", "password": "wrong"}
    async with http(app, ("192.0.2.10", 1)) as first, http(app, ("192.0.2.11", 1)) as second:
        statuses = [(await first.post("/token", data=form)).status_code for _ in range(3)]
        other = await second.post("/token", data=form)
        refused = await first.post("/token", data=form)
    assert statuses == [400, 400, 429]
    assert other.status_code == 400
    assert_headers(other, "anonymous", 2, 60)
    assert refused.json() == {"detail": "rate limit exceeded: 2 per 1 minute"}


async def test_one_ipv6_subscriber_shares_one_anonymous_bucket(make_app: AppFactory) -> None:
    app = make_app(anonymous_rate_limit="2/minute")
    form = {"username": "nobody", "password": "wrong"}
    addresses = ["2001:db8:1:2::1", "2001:db8:1:2::dead:beef", "2001:db8:1:2:ffff::9"]
    statuses = []
    for address in addresses:
        async with http(app, (address, 1)) as client:
            statuses.append((await client.post("/token", data=form)).status_code)
    async with http(app, ("2001:db8:1:3::1", 1)) as neighbour:
        other_subnet = await neighbour.post("/token", data=form)
    assert statuses == [400, 400, 429]
    assert other_subnet.status_code == 400


async def test_failed_passwords_lock_the_username_whatever_the_password(
    make_app: AppFactory,
) -> None:
    app = make_app()
    wrong = {"username": "alice", "password": "not it"}
    right = {"username": "alice", "password": PASSWORD}
    async with http(app) as client:
        failures = [(await client.post("/token", data=wrong)).status_code for _ in range(3)]
        locked = await client.post("/token", data=right)
    assert failures == [400, 400, 400]
    assert locked.status_code == 429
    assert locked.json() == {"detail": "rate limit exceeded: 3 per 1 minute"}
    assert locked.headers["RateLimit-Policy"] == '"login";q=3;w=60'
    assert 1 <= int(locked.headers["Retry-After"]) <= 61


async def test_successful_logins_never_lock_anyone_out(make_app: AppFactory) -> None:
    right = {"username": "carol", "password": PASSWORD}
    async with http(make_app()) as client:
        statuses = [(await client.post("/token", data=right)).status_code for _ in range(8)]
    assert statuses == [200] * 8


async def test_fail_closed_answers_503_while_redis_is_down(
    make_app: AppFactory, auth: AuthContext, redis_server: RedisServer
) -> None:
    headers = await bearer(auth, "alice")
    app = make_app(rate_limit_outage_policy="fail-closed")
    form = {"username": "alice", "password": "not it"}
    async with http(app) as client:
        assert (await client.post("/v1/predict", headers=headers)).status_code == 200
        redis_server.stop()
        try:
            predict = await client.post("/v1/predict", headers=headers)
            token = await client.post("/token", data=form)
        finally:
            redis_server.start()
    for response in (predict, token):
        assert response.status_code == 503
        assert response.json() == {"detail": "rate limiter unavailable"}
        assert response.headers["Retry-After"] == "1"


async def test_fail_open_keeps_answering_with_headers_while_redis_is_down(
    make_app: AppFactory, auth: AuthContext, redis_server: RedisServer
) -> None:
    headers = await bearer(auth, "alice")
    async with http(make_app()) as client:
        redis_server.stop()
        try:
            responses = [await client.post("/v1/predict", headers=headers) for _ in range(4)]
        finally:
            redis_server.start()
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert_headers(responses[0], "default", 3, 60)
