"""One real stack per test session: nginx (TLS) → 2 Gunicorn workers → its own Redis."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.stack import api
from tests.stack.harness import RunningStack, stack_environment, start_stack, stop_stack

DEFAULT_RATE_LIMIT = 30
"""Per-minute limit of token (user) clients; tight, so the limit tests stay short."""


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    env = stack_environment(
        tmp_path_factory.mktemp("stack"), DEFAULT_RATE_LIMIT=f"{DEFAULT_RATE_LIMIT}/minute"
    )
    running = start_stack(env)
    try:
        yield running
    finally:
        stop_stack(env)


@pytest.fixture
def client(stack: RunningStack) -> Iterator[httpx.Client]:
    with stack.client() as client:
        yield client


@pytest.fixture(scope="session")
def admin_headers(stack: RunningStack) -> dict[str, str]:
    return api.admin_key_headers(stack)
