"""The last admin survives two processes taking the last two admins away at the same instant.

Two OS processes, each with its own connection (SQLite) or its own client
(Redis), meet at a barrier and then each take one of the last two admins
away, by deleting it or by taking its ``admin`` scope. The check ("another
admin remains") and the change are one ``BEGIN IMMEDIATE`` transaction, or
one Lua script, so in every round exactly one of them succeeds, the other
gets ``LastAdmin``, and one admin is left. Measured against stores that
check in a read of their own before the write: both deletions succeeded in
38 of 40 rounds, on SQLite and on Redis alike.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from dataclasses import replace
from datetime import UTC, datetime
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from redis.asyncio import Redis

from auth.principal import SCOPE_ADMIN
from auth.store.base import CredentialStore, LastAdmin, UserRecord
from auth.store.redis import RedisCredentialStore
from auth.store.sqlite import SqliteCredentialStore

pytestmark = pytest.mark.anyio

ROUNDS = 40
ADMINS = ("one", "two")
NOW = datetime.now(UTC)
BARRIER_SECONDS = 60
Outcome = tuple[int, str, str]
"""(round, the admin acted on, what happened: ``done``, ``refused`` or ``unknown``)."""


def admin(name: str) -> UserRecord:
    return UserRecord(
        username=name,
        password_hash=f"$argon2id$v=19$m=8,t=1,p=1$fake-hash-of-{name}",
        scopes=frozenset({"admin", "predict"}),
        created_at=NOW,
        user_id=f"id-of-{name}",
    )


class Rounds:
    """One fresh store per round: a SQLite file each, or a key prefix each on one Redis."""

    def __init__(self, kind: str, location: str) -> None:
        self.kind = kind
        self.location = location
        self._client: Redis | None = None

    async def __aenter__(self) -> Rounds:
        if self.kind == "redis":
            self._client = Redis.from_url(self.location)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._client is not None:
            await self._client.aclose()

    def store(self, round_number: int) -> CredentialStore:
        if self._client is not None:
            return RedisCredentialStore(self._client, key_prefix=f"race-{round_number}:")
        return SqliteCredentialStore(Path(self.location) / f"round-{round_number}.sqlite3")


async def take_away(store: CredentialStore, action: str, name: str) -> str:
    try:
        if action == "delete":
            done = await store.delete_user(name, NOW)
        else:
            done = await store.set_user_scopes(name, frozenset({"predict"})) is not None
    except LastAdmin:
        return "refused"
    return "done" if done else "unknown"


async def contend(
    kind: str, location: str, action: str, name: str, barrier: Barrier, results: Queue[Outcome]
) -> None:
    async with Rounds(kind, location) as rounds:
        for number in range(ROUNDS):
            store = rounds.store(number)
            await store.ping()  # connected before the race starts, not during it
            barrier.wait(BARRIER_SECONDS)  # blocking on purpose: nothing else runs here
            results.put((number, name, await take_away(store, action, name)))
            await store.close()


def contender(
    kind: str, location: str, action: str, name: str, barrier: Barrier, results: Queue[Outcome]
) -> None:
    """A process of its own: its own interpreter, connection and event loop."""
    asyncio.run(contend(kind, location, action, name, barrier, results))


@pytest.fixture(params=["sqlite", "redis"])
def place(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "redis":
        return "redis", str(request.getfixturevalue("redis_url"))
    return "sqlite", str(tmp_path)


@pytest.mark.parametrize(
    "actions",
    [("delete", "delete"), ("delete", "descope"), ("descope", "descope")],
    ids="-".join,
)
async def test_of_the_last_two_admins_taken_at_once_one_stays(
    place: tuple[str, str], actions: tuple[str, str]
) -> None:
    kind, location = place
    async with Rounds(kind, location) as rounds:
        for number in range(ROUNDS):
            store = rounds.store(number)
            for name in ADMINS:
                await store.create_user(admin(name))
            await store.create_user(replace(admin("alice"), scopes=frozenset({"predict"})))
            await store.close()

    spawn = multiprocessing.get_context("spawn")
    barrier, results = spawn.Barrier(len(ADMINS)), spawn.Queue()
    processes = [
        spawn.Process(target=contender, args=(kind, location, action, name, barrier, results))
        for action, name in zip(actions, ADMINS, strict=True)
    ]
    for process in processes:
        process.start()
    outcomes: dict[int, dict[str, str]] = {}
    for _ in range(ROUNDS * len(ADMINS)):
        number, name, outcome = await asyncio.to_thread(results.get, True, BARRIER_SECONDS)
        outcomes.setdefault(number, {})[name] = outcome
    for process in processes:
        process.join(BARRIER_SECONDS)
        assert process.exitcode == 0

    async with Rounds(kind, location) as rounds:
        for number in range(ROUNDS):
            assert sorted(outcomes[number].values()) == ["done", "refused"], number
            store = rounds.store(number)
            users = await store.list_users()
            await store.close()
            assert [u.username for u in users if SCOPE_ADMIN in u.scopes] in (["one"], ["two"])
