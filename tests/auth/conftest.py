"""Fixtures for the auth tests: real stores (SQLite file, real Redis), cheap argon2."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
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
from tests.support.redis_server import RedisServer

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


StoreOpener = Callable[[], Awaitable[CredentialStore]]


@pytest.fixture(params=STORE_KINDS)
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreOpener]:
    """Opens stores of each adapter in turn on one real, empty backend (closed at the end).

    Two stores opened here are two processes' views of the same data: two
    SQLite connections to one file, or two Redis clients of one server.
    """
    opened: list[tuple[CredentialStore, Redis | None]] = []
    url = None if request.param == "sqlite" else request.getfixturevalue("redis_url")

    async def opener() -> CredentialStore:
        if url is None:
            sqlite_store = SqliteCredentialStore(tmp_path / "state" / "auth.sqlite3")
            opened.append((sqlite_store, None))
            return sqlite_store
        client = Redis.from_url(url, decode_responses=request.param == "redis-decoded")
        opened.append((RedisCredentialStore(client), client))
        return opened[-1][0]

    yield opener
    for opened_store, client in reversed(opened):
        await opened_store.close()
        if client is not None:
            await client.aclose()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, free to stop, restart and stall."""
    server = RedisServer(tmp_path / "own-redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def store(open_store: StoreOpener) -> CredentialStore:
    """Each adapter in turn, empty, on a real backend."""
    return await open_store()


def build_context(
    store: CredentialStore,
    *,
    hasher: PasswordHasher | None = None,
    clock: SteppingClock | None = None,
    **options: Any,
) -> AuthContext:
    """A real context on ``store`` with fresh random secrets; ``options`` go to ``AuthContext``.

    Pass the same ``signing_keys`` and ``api_key_pepper`` (``fresh_secrets()``) to
    two contexts and they are two workers of one deployment.
    """
    settings: dict[str, Any] = {
        **fresh_secrets(),
        "algorithm": "HS256",
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "access_token_ttl_seconds": 900,
        "refresh_token_ttl_seconds": 14 * 86_400,
        "password_hasher": hasher or cheap_hasher(),
        "clock": clock or SteppingClock(),
    }
    return AuthContext(store, **(settings | options))


def fresh_secrets() -> dict[str, Any]:
    return {
        "signing_keys": [("test-key-1", secrets.token_urlsafe(48))],
        "api_key_pepper": secrets.token_hex(32),
    }


@pytest.fixture
async def context(
    store: CredentialStore, hasher: PasswordHasher, clock: SteppingClock
) -> AsyncIterator[AuthContext]:
    """Started, as the server starts it: every check goes through the principal cache."""
    built = build_context(store, hasher=hasher, clock=clock)
    built.start()
    yield built
    await built.close()
