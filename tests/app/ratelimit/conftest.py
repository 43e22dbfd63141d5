"""Limiters on both storages: in-process memory, and the session's real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from app.ratelimit.limiter import Limiter


@pytest.fixture(params=["memory", "redis"])
def backend_url(request: pytest.FixtureRequest) -> str | None:
    """``None`` for the in-process storage, a flushed real Redis otherwise."""
    if request.param == "memory":
        return None
    return str(request.getfixturevalue("redis_url"))


@pytest.fixture
async def make_limiter() -> AsyncIterator[Callable[..., Limiter]]:
    """Build limiters that are closed when the test ends."""
    made: list[Limiter] = []

    def make(**kwargs: Any) -> Limiter:
        # Generous unless a test says otherwise: a loaded CI machine must not
        # turn a slow answer into an outage (and a fallback decision).
        kwargs.setdefault("timeout_seconds", 5.0)
        limiter = Limiter(**kwargs)
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.aclose()


@pytest.fixture
def limiter(make_limiter: Callable[..., Limiter], backend_url: str | None) -> Limiter:
    return make_limiter(redis_url=backend_url)
