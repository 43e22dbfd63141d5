"""What only the SQLite adapter promises: WAL, NORMAL sync, a private file, off-loop work."""

from __future__ import annotations

import sqlite3
import stat
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auth.store.base import SpendOutcome
from auth.store.sqlite import SqliteCredentialStore
from auth.store.sqlite.thread import SqliteThread

pytestmark = pytest.mark.anyio


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteThread]:
    thread = SqliteThread(tmp_path / "nested" / "auth.sqlite3")
    yield thread
    await thread.close()


async def test_connection_settings(db: SqliteThread) -> None:
    assert await db.read(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0]) == "wal"
    # FULL (2): an acknowledged revocation survives a power loss.
    assert await db.read(lambda c: c.execute("PRAGMA synchronous").fetchone()[0]) == 2
    assert await db.read(lambda c: c.execute("PRAGMA foreign_keys").fetchone()[0]) == 1


async def test_work_runs_on_one_thread_that_is_not_the_event_loops(db: SqliteThread) -> None:
    idents = {await db.read(lambda _: threading.get_ident()) for _ in range(5)}
    idents.add(await db.write(lambda _: threading.get_ident()))
    assert len(idents) == 1
    assert threading.get_ident() not in idents


async def test_a_failing_write_leaves_nothing_behind(db: SqliteThread) -> None:
    def half_then_fail(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO audit_events (at, actor, action, target) VALUES (1, 'a', 'b', 'c')")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        await db.write(half_then_fail)
    assert await db.read(lambda c: c.execute("SELECT count(*) FROM audit_events").fetchone()) == (
        0,
    )


async def test_the_file_is_private_and_the_schema_exists(tmp_path: Path) -> None:
    path = tmp_path / "auth.sqlite3"
    store = SqliteCredentialStore(path)
    assert await store.ping() is True
    await store.close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with sqlite3.connect(path) as raw:
        tables = {
            row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    assert {"users", "api_keys", "refresh_tokens", "refresh_families"} <= tables


async def test_data_survives_reopening(tmp_path: Path) -> None:
    from tests.auth.store.test_contract import user

    path = tmp_path / "auth.sqlite3"
    first = SqliteCredentialStore(path)
    await first.create_user(user())
    await first.close()
    second = SqliteCredentialStore(path)
    assert await second.get_user("alice") == user()
    await second.close()


async def test_expired_revocations_are_pruned(tmp_path: Path) -> None:
    store = SqliteCredentialStore(tmp_path / "auth.sqlite3")
    now = datetime.now(UTC)
    await store.revoke_access_token("long-gone", now - timedelta(seconds=1))
    await store.revoke_access_token("current", now + timedelta(minutes=5))
    rows = await store._db.read(
        lambda c: c.execute("SELECT jti FROM revoked_access_tokens").fetchall()
    )
    await store.close()
    assert rows == [("current",)]


FIRST_LAYOUT = """
CREATE TABLE users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL,
                    scopes TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE api_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, prefix TEXT NOT NULL,
    secret_digest TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL, rate_limit TEXT NOT NULL,
    created_at INTEGER NOT NULL, expires_at INTEGER, last_used_at INTEGER,
    revoked_at INTEGER, created_by TEXT);
CREATE TABLE refresh_families (family_id TEXT PRIMARY KEY, username TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0, expires_at INTEGER NOT NULL);
CREATE TABLE refresh_tokens (digest TEXT PRIMARY KEY, family_id TEXT NOT NULL,
    username TEXT NOT NULL, scopes TEXT NOT NULL, expires_at INTEGER NOT NULL,
    spent_at INTEGER);
INSERT INTO users VALUES ('alice', 'hash-a', 'predict', 1), ('bob', 'hash-b', 'admin', 2);
INSERT INTO api_keys VALUES ('k1', 'ci', 'hpk_AbC1', 'digest-k1', 'predict', '10/minute', 3,
                             NULL, NULL, NULL, 'user:alice');
INSERT INTO refresh_families VALUES ('fam', 'alice', 0, 99999999999999999);
INSERT INTO refresh_tokens VALUES ('digest', 'fam', 'alice', 'predict', 99999999999999999, NULL);
"""


async def test_a_file_of_the_first_layout_is_upgraded_in_place(tmp_path: Path) -> None:
    """Users keep their accounts and get distinct ids; name-bound families end; keys stay."""
    path = tmp_path / "auth.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.executescript(FIRST_LAYOUT)
    store = SqliteCredentialStore(path)
    users = await store.list_users()
    spent = await store.spend_refresh_token("digest", datetime.now(UTC))
    old_key = await store.get_key("k1")
    await store.delete_user("alice", datetime.now(UTC))
    kept_key = await store.get_key("k1")
    await store.close()
    reopened = SqliteCredentialStore(path)
    again = await reopened.list_users()
    await reopened.close()
    assert [(u.username, u.password_hash) for u in users] == [
        ("alice", "hash-a"),
        ("bob", "hash-b"),
    ]
    assert len({u.user_id for u in users}) == 2
    assert all(len(u.user_id) == 32 for u in users)
    assert again == users[1:]  # upgraded once: the ids stay (alice was deleted)
    assert spent.outcome is SpendOutcome.INVALID
    assert old_key is not None
    assert (old_key.name, old_key.created_by, old_key.owner_id) == ("ci", "user:alice", None)
    assert kept_key == old_key  # owned by nobody: the deletion leaves it alone


async def test_the_feed_resyncs_on_another_connections_write_only(tmp_path: Path) -> None:
    """This process's writes are told by name; another's is seen as the file changing."""
    from tests.auth.store.recorder import eventually, following
    from tests.auth.store.test_contract import user

    path = tmp_path / "auth.sqlite3"
    here, elsewhere = SqliteCredentialStore(path), SqliteCredentialStore(path)
    try:
        assert await elsewhere.ping()  # opened (and the schema made) before following
        async with following(here) as recorder:
            await here.create_user(user())
            await here.revoke_access_token("j", datetime.now(UTC) + timedelta(minutes=1))
            now = time.monotonic()
            await eventually(lambda: (recorder.confirmed or 0) > now)
            assert (recorder.resyncs, recorder.names) == (1, ["jti:j"])
            await elsewhere.revoke_access_token("k", datetime.now(UTC) + timedelta(minutes=1))
            assert await eventually(lambda: recorder.resyncs == 2) < 1
    finally:
        await here.close()
        await elsewhere.close()
