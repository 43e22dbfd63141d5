"""Credentials resolved through the principal cache: no round trip on a hit, and no
revocation weakened: every worker (here, separate contexts with their own clients and
caches, and a separate process) refuses a revoked credential within 100 ms."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from auth.context import AuthContext
from auth.principal import Principal
from auth.store.redis import RedisCredentialStore
from auth.store.sqlite import SqliteCredentialStore
from tests.auth.conftest import build_context, fresh_secrets
from tests.auth.store.recorder import eventually

pytestmark = pytest.mark.anyio

PASSWORD = "long enough passphrase"
REPO = Path(__file__).resolve().parents[2]


async def commands_run(admin: Redis) -> int:
    """Commands Redis has run, not counting the feeds' heartbeats or this question."""
    stats = await admin.info("commandstats")
    ignored = {"cmdstat_info", "cmdstat_ping", "cmdstat_subscribe"}
    return sum(int(value["calls"]) for name, value in stats.items() if name not in ignored)


@pytest.fixture
async def workers(redis_url: str) -> AsyncIterator[tuple[AuthContext, AuthContext]]:
    """Two started contexts of one deployment, each with its own Redis client and cache."""
    shared = fresh_secrets()
    clients = [Redis.from_url(redis_url, socket_timeout=0.5) for _ in range(2)]
    contexts = [build_context(RedisCredentialStore(c), **shared) for c in clients]
    for context in contexts:
        context.start()
    await eventually(lambda: all(c.cache.trusted for c in contexts))
    yield contexts[0], contexts[1]
    for context, client in zip(contexts, clients, strict=True):
        await context.close()
        await client.aclose()


async def test_a_cached_credential_costs_no_round_trip(
    workers: tuple[AuthContext, AuthContext], redis_url: str
) -> None:
    admin, worker = workers
    await admin.users.create("alice", PASSWORD, ["predict"])
    grant = await admin.tokens.password_grant("alice", PASSWORD)
    issued = await admin.keys.create("k", ["predict"], "10/second")
    assert await worker.principals.from_api_key(issued.secret) is not None
    assert await worker.principals.from_access_token(grant.access_token) is not None
    counter = Redis.from_url(redis_url)
    try:
        before = await commands_run(counter)
        for _ in range(50):
            assert await worker.principals.from_api_key(issued.secret) is not None
            assert await worker.principals.from_access_token(grant.access_token) is not None
        assert await commands_run(counter) - before == 0
    finally:
        await counter.aclose()


async def test_an_unknown_key_is_asked_for_every_time(
    workers: tuple[AuthContext, AuthContext], redis_url: str
) -> None:
    """Not cached: a scanner's guesses can neither fill the cache nor be answered from it."""
    from auth.api_keys import generate_api_key

    _, worker = workers
    guess = generate_api_key()
    counter = Redis.from_url(redis_url)
    try:
        for _ in range(3):
            before = await commands_run(counter)
            assert await worker.principals.from_api_key(guess) is None
            assert await commands_run(counter) > before
    finally:
        await counter.aclose()


Revocation = Callable[[AuthContext, dict[str, Any]], Awaitable[object]]


async def _revoke_key(admin: AuthContext, made: dict[str, Any]) -> object:
    return await admin.keys.revoke(made["key_id"])


async def _rotate_key(admin: AuthContext, made: dict[str, Any]) -> object:
    return await admin.keys.rotate(made["key_id"])


async def _delete_owner(admin: AuthContext, made: dict[str, Any]) -> object:
    return await admin.users.delete("alice")


async def _revoke_token(admin: AuthContext, made: dict[str, Any]) -> object:
    return await admin.tokens.revoke(made["access_token"])


async def _log_out(admin: AuthContext, made: dict[str, Any]) -> object:
    return await admin.tokens.revoke(made["refresh_token"], "refresh_token")


async def _reset_password(admin: AuthContext, made: dict[str, Any]) -> object:
    return await admin.users.set_password("alice", "a brand new passphrase")


REVOCATIONS: dict[str, tuple[Revocation, str]] = {
    "password reset": (_reset_password, "token"),
    "key revoked": (_revoke_key, "key"),
    "key rotated": (_rotate_key, "key"),
    "key's owner deleted": (_delete_owner, "key"),
    "user deleted": (_delete_owner, "token"),
    "access token revoked": (_revoke_token, "token"),
    "logged out (RFC 7009)": (_log_out, "token"),
}


async def made_by_alice(admin: AuthContext) -> dict[str, Any]:
    await admin.users.create("standby-admin", PASSWORD, ["admin"])
    await admin.users.create("alice", PASSWORD, ["predict", "admin"])
    alice = await admin.users.get("alice")
    assert alice is not None
    grant = await admin.tokens.password_grant("alice", PASSWORD)
    issued = await admin.keys.create("k", ["predict"], "10/second", owner_id=alice.user_id)
    return {
        "key_id": issued.record.id,
        "key": issued.secret,
        "access_token": grant.access_token,
        "refresh_token": grant.refresh_token,
    }


async def resolve(context: AuthContext, kind: str, made: dict[str, Any]) -> Principal | None:
    if kind == "key":
        return await context.principals.from_api_key(made["key"])
    return await context.principals.from_access_token(made["access_token"])


@pytest.mark.parametrize("revocation", list(REVOCATIONS))
async def test_every_worker_refuses_a_revocation_within_100_ms(
    workers: tuple[AuthContext, AuthContext], revocation: str
) -> None:
    admin, worker = workers
    revoke, kind = REVOCATIONS[revocation]
    made = await made_by_alice(admin)
    for _ in range(2):  # the second answer comes from the worker's cache
        assert await resolve(worker, kind, made) is not None
    await revoke(admin, made)
    assert await resolve(admin, kind, made) is None  # the revoking worker: at once
    refused: list[bool] = []

    async def worker_refuses() -> None:
        while await resolve(worker, kind, made) is not None:
            await asyncio.sleep(0.001)
        refused.append(True)

    start = time.monotonic()
    await asyncio.wait_for(worker_refuses(), timeout=5)
    assert time.monotonic() - start < 0.1


async def test_every_worker_applies_a_narrower_user_or_key_within_100_ms(
    workers: tuple[AuthContext, AuthContext],
) -> None:
    """A token never grants more than its user holds now; a key's new limit applies."""
    admin, worker = workers
    made = await made_by_alice(admin)
    token = await resolve(worker, "token", made)
    key = await resolve(worker, "key", made)
    assert token is not None
    assert key is not None
    assert (token.scopes, key.rate_limit) == ({"predict", "admin"}, "10/second")
    await admin.users.set_scopes("alice", ["predict"])
    await admin.keys.update(made["key_id"], rate_limit="3/second")
    start = time.monotonic()
    while True:
        token, key = await resolve(worker, "token", made), await resolve(worker, "key", made)
        assert token is not None
        assert key is not None
        if (token.scopes, key.rate_limit) == ({"predict"}, "3/second"):
            break
        assert time.monotonic() - start < 0.1
        await asyncio.sleep(0.001)


async def test_a_revocation_while_a_workers_feed_is_down_is_not_missed(
    workers: tuple[AuthContext, AuthContext], redis_url: str
) -> None:
    """The message is lost with the connection; the resubscription empties the cache."""
    admin, worker = workers
    made = await made_by_alice(admin)
    assert await resolve(worker, "key", made) is not None
    synced_at = worker.cache.synced_at
    killer = Redis.from_url(redis_url)
    try:
        await killer.client_kill_filter(_type="pubsub")
        await admin.keys.revoke(made["key_id"])
    finally:
        await killer.aclose()
    await eventually(lambda: worker.cache.trusted and worker.cache.synced_at != synced_at)
    assert await resolve(worker, "key", made) is None


async def test_a_separate_process_refuses_within_100_ms(redis_url: str) -> None:
    """A real second worker process, with its own client and cache."""
    shared = fresh_secrets()
    client = Redis.from_url(redis_url, socket_timeout=0.5)
    admin = build_context(RedisCredentialStore(client), **shared)
    admin.start()
    try:
        made = await made_by_alice(admin)
        env = {
            **os.environ,
            "WORKER_REDIS_URL": redis_url,
            "WORKER_SIGNING_KEY": ":".join(shared["signing_keys"][0]),
            "WORKER_PEPPER": shared["api_key_pepper"],
            "WORKER_KEY": made["key"],
            "WORKER_TOKEN": made["access_token"],
        }
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.auth.revocation_worker",
            cwd=REPO, env=env, stdout=subprocess.PIPE,
        )  # fmt: skip
        try:
            assert worker.stdout is not None
            assert (await asyncio.wait_for(worker.stdout.readline(), 30)).strip() == b"ready"
            revoked_at = {"key": time.monotonic()}
            await admin.keys.revoke(made["key_id"])
            revoked_at["token"] = time.monotonic()
            await admin.tokens.revoke(made["refresh_token"], "refresh_token")
            seen = {}
            for _ in range(2):
                kind, at = (await asyncio.wait_for(worker.stdout.readline(), 15)).split()
                seen[kind.decode()] = float(at)
        finally:
            if worker.returncode is None:
                worker.kill()
            await worker.wait()
    finally:
        await admin.close()
        await client.aclose()
    for kind in ("key", "token"):
        assert seen[kind] - revoked_at[kind] < 0.1, kind


async def test_sqlite_another_process_writing_the_file_is_noticed(tmp_path: Path) -> None:
    """The embedded store: a command-line tool revoking beside the server (data_version)."""
    path = tmp_path / "auth.sqlite3"
    shared = fresh_secrets()
    server = build_context(SqliteCredentialStore(path), **shared)
    tool = build_context(SqliteCredentialStore(path), **shared)
    server.start()
    try:
        await eventually(lambda: server.cache.trusted)
        made = await made_by_alice(tool)
        for _ in range(2):
            assert await resolve(server, "key", made) is not None
        await tool.keys.revoke(made["key_id"])
        start = time.monotonic()
        while await resolve(server, "key", made) is not None:
            await asyncio.sleep(0.005)
        assert time.monotonic() - start < 1
    finally:
        await server.close()
        await tool.close()


async def test_a_token_principal_acts_as_its_user_instance(context: AuthContext) -> None:
    """What a token's caller creates, that user owns (and it dies with the user): the
    principal carries the user instance, not only the name."""
    await context.users.create("ops", PASSWORD, ["admin"])
    user = await context.users.get("ops")
    assert user is not None
    grant = await context.tokens.password_grant("ops", PASSWORD)
    principal = await context.principals.from_access_token(grant.access_token)
    assert principal is not None
    assert (principal.user_id, principal.kind, principal.subject) == (user.user_id, "user", "ops")
    assert principal.token_id == context.access_tokens.decode(grant.access_token).token_id
