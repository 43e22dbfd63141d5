"""Two Gunicorn instances behind one nginx, sharing one Redis the stack did not start."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.stack import api
from tests.stack.harness import RunningStack, running_stack, stack_environment
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.stack, pytest.mark.anyio]


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(Path(tmp_path_factory.mktemp("scale-redis")))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def scaled(
    stack_state_dirs: Callable[[str], Path], shared_redis: RedisServer
) -> Iterator[RunningStack]:
    env = stack_environment(
        stack_state_dirs("scaled"), APP_INSTANCES="2", REDIS_URL=shared_redis.url
    )
    with running_stack(env) as running:
        yield running


@pytest.fixture(scope="module")
def scaled_admin(scaled: RunningStack) -> dict[str, str]:
    return api.admin_key_headers(scaled)


def upstreams(stack: RunningStack, responses: list[httpx.Response]) -> Counter[str]:
    """Which app instance (its socket) answered each response, from nginx's access log."""
    ids = [response.headers["x-request-id"] for response in responses]
    return Counter(entry["upstream_addr"] for entry in stack.access_entries(ids).values())


def test_the_stack_uses_the_given_redis_and_starts_none(scaled: RunningStack) -> None:
    assert scaled.info.redis_port is None
    assert "redis" not in scaled.info.services
    assert len(scaled.info.app_sockets) == 2


async def test_the_limit_is_exact_across_instances(
    scaled: RunningStack, scaled_admin: dict[str, str]
) -> None:
    responses = await api.burst_with_new_key(scaled, scaled_admin, "50/day", 200, name="fifty")
    assert Counter(response.status_code for response in responses) == {200: 50, 429: 150}
    served_by = upstreams(scaled, responses)
    assert set(served_by) == {f"unix:{path}" for path in scaled.info.app_sockets}


async def test_revocation_holds_on_every_instance(
    scaled: RunningStack, scaled_admin: dict[str, str]
) -> None:
    with scaled.client() as client:
        key = api.predict_key(client, scaled_admin, "100000/minute", name="revoked")
    headers = api.key_headers(key)
    instances = {f"unix:{path}" for path in scaled.info.app_sockets}
    async with scaled.async_client() as client:
        before = await api.predict_burst(client, 40, headers)
        assert {response.status_code for response in before} == {200}
        assert set(upstreams(scaled, before)) == instances
        with scaled.client() as sync_client:
            api.revoke_key(sync_client, scaled_admin, key["id"])
        after = await api.predict_burst(client, 40, headers)
    assert {response.status_code for response in after} == {401}
    assert set(upstreams(scaled, after)) == instances
