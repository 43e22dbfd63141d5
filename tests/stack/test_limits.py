"""Rate limits and revocation hold across the workers of one Gunicorn instance."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest

from tests.stack import api
from tests.stack.api import V1_FEATURES
from tests.stack.conftest import DEFAULT_RATE_LIMIT
from tests.stack.harness import RunningStack, connections_per_worker

pytestmark = [pytest.mark.stack, pytest.mark.anyio]


async def test_a_50_per_minute_key_gets_exactly_50_of_200(
    stack: RunningStack, admin_headers: dict[str, str]
) -> None:
    with stack.client() as client:
        key = api.create_key(
            client,
            admin_headers,
            name=api.unique("fifty"),
            scopes=["predict"],
            rate_limit="50/minute",
        )
    async with stack.async_client() as client:
        responses = await api.burst(
            client, 200, "/v1/predict", V1_FEATURES, {"X-API-Key": key["key"]}
        )
    assert Counter(response.status_code for response in responses) == {200: 50, 429: 150}
    for response in responses:
        assert response.headers["x-ratelimit-limit"] == "50"
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) > 0


async def test_a_user_gets_exactly_the_default_limit(
    stack: RunningStack, admin_headers: dict[str, str]
) -> None:
    username, password = api.unique("limited"), secrets.token_urlsafe(18)
    with stack.client() as client:
        api.create_user(client, admin_headers, username, password, ["predict"])
        token = api.password_token(client, username, password)["access_token"]
    async with stack.async_client() as client:
        responses = await api.burst(
            client, DEFAULT_RATE_LIMIT + 20, "/v1/predict", V1_FEATURES, api.bearer(token)
        )
    counts = Counter(response.status_code for response in responses)
    assert counts == {200: DEFAULT_RATE_LIMIT, 429: 20}


async def test_a_revoked_key_is_refused_by_every_worker(
    stack: RunningStack, admin_headers: dict[str, str]
) -> None:
    with stack.client() as client:
        key = api.create_key(
            client,
            admin_headers,
            name=api.unique("revoked"),
            scopes=["predict"],
            rate_limit="100000/minute",
        )
    headers = {"X-API-Key": key["key"]}
    async with stack.async_client() as client:
        # Enough concurrent requests that both workers serve (and may cache) the key.
        before = await api.burst(client, 60, "/v1/predict", V1_FEATURES, headers)
        assert {response.status_code for response in before} == {200}
        serving = connections_per_worker(stack)
        assert len(serving) == 2
        assert all(serving.values()), f"a worker served nothing: {serving}"
        with stack.client() as sync_client:
            api.revoke_key(sync_client, admin_headers, key["id"])
        after = await api.burst(client, 100, "/v1/predict", V1_FEATURES, headers)
    assert {response.status_code for response in after} == {401}
