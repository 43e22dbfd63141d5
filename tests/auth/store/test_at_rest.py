"""What an attacker who copies the storage gets: no password, API key or refresh token."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from auth.context import AuthContext
from auth.store.redis import RedisCredentialStore
from auth.store.sqlite import SqliteCredentialStore
from tests.auth.conftest import build_context

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery staple"


async def _use_every_secret(context: AuthContext) -> list[str]:
    """Store one of each kind of secret, and return them all in clear."""
    await context.users.create("alice", PASSWORD, {"predict"})
    first = await context.tokens.password_grant("alice", PASSWORD)
    second = await context.tokens.refresh_grant(first.refresh_token)
    issued = await context.keys.create("ci", {"predict"}, "10/minute")
    rotated = await context.keys.rotate(issued.record.id)
    assert rotated is not None
    await context.audit.record("alice", "key.rotate", issued.record.id, "192.0.2.1")
    return [PASSWORD, first.refresh_token, second.refresh_token, issued.secret, rotated.secret]


def _assert_absent(secrets_in_clear: list[str], blob: bytes) -> None:
    for secret in secrets_in_clear:
        assert secret.encode() not in blob
        # Not even the part after the display prefix of an API key.
        assert secret[8:].encode() not in blob


async def test_sqlite_file_holds_no_secret_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "auth.sqlite3"
    store = SqliteCredentialStore(path)
    secrets_in_clear = await _use_every_secret(build_context(store))
    files = [p for p in tmp_path.iterdir() if p.name.startswith(path.name)]
    blob = b"".join(p.read_bytes() for p in files)
    await store.close()
    blob += path.read_bytes()

    assert b"alice" in blob  # the bytes read are really the credential data
    assert b"$argon2id$" in blob
    _assert_absent(secrets_in_clear, blob)


async def test_redis_holds_no_secret_in_clear(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    try:
        store = RedisCredentialStore(client)
        secrets_in_clear = await _use_every_secret(build_context(store))
        blob = b""
        async for name in client.scan_iter(count=1000):
            blob += name
            kind = (await client.type(name)).decode()
            if kind == "string":
                blob += await client.get(name)
            elif kind == "hash":
                for field, value in (await client.hgetall(name)).items():
                    blob += field + value
            elif kind == "set":
                blob += b"".join(await client.smembers(name))
            elif kind == "zset":
                blob += b"".join(await client.zrange(name, 0, -1))
            elif kind == "list":
                blob += b"".join(await client.lrange(name, 0, -1))
            else:
                pytest.fail(f"unexpected Redis type {kind} at {name!r}")
    finally:
        await client.aclose()

    assert b"alice" in blob
    assert b"$argon2id$" in blob
    _assert_absent(secrets_in_clear, blob)
