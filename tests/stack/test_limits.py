"""Rate limits and revocation hold across the workers of one Gunicorn instance."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.stack import api
from tests.stack.conftest import DEFAULT_RATE_LIMIT
from tests.stack.harness import RunningStack, connections_per_worker

pytestmark = [pytest.mark.stack, pytest.mark.anyio]


async def test_a_50_per_day_key_gets_exactly_50_of_200(
    stack: RunningStack, admin_headers: dict[str, str]
) -> None:
    responses = await api.burst_with_new_key(stack, admin_headers, "50/day", 200, name="fifty")
    assert Counter(response.status_code for response in responses) == {200: 50, 429: 150}
    for response in responses:
        assert response.headers["x-ratelimit-limit"] == "50"
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) > 0


async def test_a_user_gets_exactly_the_default_limit(
    stack: RunningStack, admin_headers: dict[str, str]
) -> None:
    with stack.client() as client:
        username, password = api.predict_user(client, admin_headers, "limited")
        token = api.password_token(client, username, password)["access_token"]
    async with stack.async_client() as client:
        responses = await api.predict_burst(client, DEFAULT_RATE_LIMIT + 20, api.bearer(token))
    counts = Counter(response.status_code for response in responses)
    assert counts == {200: DEFAULT_RATE_LIMIT, 429: 20}


async def test_a_revoked_key_is_refused_by_every_worker(
    stack: RunningStack, admin_headers: dict[str, str]
) -> None:
    with stack.client() as client:
        key = api.predict_key(client, admin_headers, "100000/minute", name="revoked")
    headers = api.key_headers(key)
    async with stack.async_client() as client:
        # Enough concurrent requests that both workers serve (and may cache) the key.
        before = await api.predict_burst(client, 60, headers)
        assert {response.status_code for response in before} == {200}
        serving = connections_per_worker(stack)
        assert len(serving) == 2
        assert all(serving.values()), f"a worker served nothing: {serving}"
        with stack.client() as sync_client:
            api.revoke_key(sync_client, admin_headers, key["id"])
        after = await api.predict_burst(client, 100, headers)
    assert {response.status_code for response in after} == {401}
