"""The guard of every protected route, through the real app: 401, limits, headers, 503."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import ADMIN, ADMIN_PASSWORD, create_key, make_settings, password_token
from tests.support.payloads import V1_FEATURES
from tests.support.redis_server import RedisServer

RATE_LIMIT_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit-Policy",
    "RateLimit",
)

AppFactory = Callable[..., TestClient]


@pytest.fixture
def make_client(tmp_path: Path, redis_url: str) -> Iterator[AppFactory]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        values: dict[str, Any] = {
            "redis_url": redis_url,
            "redis_timeout_seconds": 5,
            "default_rate_limit": "3/day",
            **overrides,
        }
        client = TestClient(create_app(make_settings(tmp_path / f"s{len(clients)}", **values)))
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def assert_headers(response: Any, policy: str, quota: int, window: int) -> None:
    for name in RATE_LIMIT_HEADERS:
        assert len(response.headers.get_list(name)) == 1, name
    assert response.headers["X-RateLimit-Limit"] == str(quota)
    reset = int(response.headers["X-RateLimit-Reset"])
    assert time.time() - 1 <= reset <= time.time() + window + 1  # epoch seconds
    assert response.headers["RateLimit-Policy"] == f'"{policy}";q={quota};w={window}'
    match = re.fullmatch(rf'"{policy}";r=(\d+);t=(\d+)', response.headers["RateLimit"])
    assert match is not None, response.headers["RateLimit"]
    assert int(match[1]) == int(response.headers["X-RateLimit-Remaining"])
    assert 0 <= int(match[2]) <= window


def test_a_token_user_gets_the_default_limit(make_client: AppFactory) -> None:
    client = make_client()
    headers = {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}
    responses = [client.post("/v1/predict", json=V1_FEATURES, headers=headers) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    for response, remaining in zip(responses, ("2", "1", "0"), strict=False):
        assert_headers(response, "default", 3, 86_400)
        assert response.headers["X-RateLimit-Remaining"] == remaining
        assert "Retry-After" not in response.headers
    refused = responses[3]
    assert refused.json() == {"detail": "rate limit exceeded: 3 per 86400 s"}
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 86_400
    assert refused.headers["RateLimit"] == f'"default";r=0;t={retry_after}'


def test_an_api_key_gets_its_own_limit_and_its_own_bucket(make_client: AppFactory) -> None:
    client = make_client()
    admin = {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}
    key = {"X-API-Key": create_key(client, admin, ["predict"], "2/day")["key"]}
    by_key = [client.post("/v1/predict", json=V1_FEATURES, headers=key) for _ in range(3)]
    assert [r.status_code for r in by_key] == [200, 200, 429]
    assert_headers(by_key[0], "key", 2, 86_400)
    by_user = client.get("/v1/model", headers=admin)
    assert by_user.status_code == 200
    assert by_user.headers["X-RateLimit-Remaining"] == "1"  # its own bucket: 3 - the key's 1


def test_answers_the_route_builds_itself_still_carry_the_headers(
    make_client: AppFactory,
) -> None:
    client = make_client(default_rate_limit="10/day")
    admin = {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}
    not_found = client.get("/admin/keys/no-such-key", headers=admin)
    invalid = client.post("/v1/predict", json={"lotsize": 1}, headers=admin)
    assert (not_found.status_code, invalid.status_code) == (404, 422)
    assert_headers(not_found, "default", 10, 86_400)
    assert_headers(invalid, "default", 10, 86_400)


def test_failed_authentications_are_limited_per_address(make_client: AppFactory) -> None:
    client = make_client(auth_failure_limit="3/day")
    token = password_token(client, ADMIN, ADMIN_PASSWORD)
    bad = {"X-API-Key": "hpk_" + "A" * 36}
    statuses = [client.post("/v1/predict", json=V1_FEATURES, headers=bad).status_code]
    statuses += [client.get("/v1/model", headers=bad).status_code for _ in range(3)]
    assert statuses == [401, 401, 401, 429]
    # Refused before any credential is looked at: a right one gets no further now.
    good = client.get("/v1/model", headers={"Authorization": f"Bearer {token}"})
    assert good.status_code == 429
    assert good.headers["RateLimit-Policy"] == '"auth-failures";q=3;w=86400'


@pytest.mark.parametrize(
    "authorization",
    ["Bearer  {token}", "Bearer\t{token}", "Bearer {token}=", "Bearer {token} ", "Bearer"],
)
def test_only_the_canonical_bearer_form_is_read(
    make_client: AppFactory, authorization: str
) -> None:
    client = make_client()
    token = password_token(client, ADMIN, ADMIN_PASSWORD)
    response = client.get("/v1/model", headers={"Authorization": authorization.format(token=token)})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/v1/model", headers={"Authorization": f"bearer {token}"}).status_code == 200


def test_fail_closed_answers_503_while_redis_is_down(
    make_client: AppFactory, redis_server: RedisServer
) -> None:
    client = make_client(rate_limit_outage_policy="fail-closed", redis_timeout_seconds=0.5)
    admin = {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}
    assert client.get("/v1/model", headers=admin).status_code == 200
    redis_server.stop()
    try:
        response = client.get("/v1/model", headers=admin)
    finally:
        redis_server.start()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["detail"].endswith("unavailable")
