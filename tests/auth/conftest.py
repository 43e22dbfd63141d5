"""Fixtures for the auth tests: real stores (SQLite file, real Redis), cheap argon2."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from auth.context import AuthContext
from auth.passwords import PasswordHasher
from auth.store.base import CredentialStore
from auth.store.redis import RedisCredentialStore
from auth.store.sqlite import SqliteCredentialStore

STORE_KINDS = ["sqlite", "redis", "redis-decoded"]
ISSUER = "housing-api-test"
AUDIENCE = "housing-api-test"


def cheap_hasher() -> PasswordHasher:
    """argon2id at its smallest legal cost: the tests exercise logic, not hardness."""
    return PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1)


class SteppingClock:
    """Real time plus an offset the test moves forward (for expiry and throttling)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture(scope="session")
def hasher() -> PasswordHasher:
    return cheap_hasher()


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture(params=STORE_KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CredentialStore]:
    """Each adapter in turn, empty, on a real backend."""
    if request.param == "sqlite":
        sqlite_store = SqliteCredentialStore(tmp_path / "state" / "auth.sqlite3")
        yield sqlite_store
        await sqlite_store.close()
        return
    url = request.getfixturevalue("redis_url")
    client = Redis.from_url(url, decode_responses=request.param == "redis-decoded")
    yield RedisCredentialStore(client)
    await client.aclose()


def build_context(
    store: CredentialStore,
    *,
    hasher: PasswordHasher | None = None,
    clock: SteppingClock | None = None,
    **options: Any,
) -> AuthContext:
    """A real context on ``store`` with fresh random secrets; ``options`` go to ``AuthContext``."""
    return AuthContext(
        store,
        signing_keys=[("test-key-1", secrets.token_urlsafe(48))],
        algorithm="HS256",
        issuer=ISSUER,
        audience=AUDIENCE,
        access_token_ttl_seconds=900,
        refresh_token_ttl_seconds=14 * 86_400,
        api_key_pepper=secrets.token_hex(32),
        password_hasher=hasher or cheap_hasher(),
        clock=clock or SteppingClock(),
        **options,
    )


@pytest.fixture
def context(store: CredentialStore, hasher: PasswordHasher, clock: SteppingClock) -> AuthContext:
    return build_context(store, hasher=hasher, clock=clock)
