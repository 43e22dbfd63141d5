"""What only the SQLite adapter promises: WAL, NORMAL sync, a private file, off-loop work."""

from __future__ import annotations

import sqlite3
import stat
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

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
