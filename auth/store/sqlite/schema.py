"""The SQLite schema: created on open, and files of earlier versions upgraded in place.

Times are whole microseconds since the epoch (exact, and comparable in SQL);
scope sets are space-separated, sorted. ``PRAGMA user_version`` records which
upgrades a file has had, so each runs once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    scopes        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    user_id       TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS users_by_id ON users (user_id);

CREATE TABLE IF NOT EXISTS api_keys (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    secret_digest TEXT NOT NULL UNIQUE,
    scopes        TEXT NOT NULL,
    rate_limit    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    last_used_at  INTEGER,
    revoked_at    INTEGER,
    created_by    TEXT,
    owner_id      TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_by_owner ON api_keys (owner_id);

CREATE TABLE IF NOT EXISTS refresh_families (
    family_id  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS refresh_families_by_user ON refresh_families (user_id);
CREATE INDEX IF NOT EXISTS refresh_families_by_expiry ON refresh_families (expires_at);

CREATE TABLE IF NOT EXISTS refresh_tokens (
    digest     TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES refresh_families (family_id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    username   TEXT NOT NULL,
    scopes     TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_family ON refresh_tokens (family_id);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_expiry ON refresh_tokens (expires_at);

CREATE TABLE IF NOT EXISTS revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS revoked_access_tokens_by_expiry ON revoked_access_tokens (expires_at);

CREATE TABLE IF NOT EXISTS audit_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT NOT NULL,
    client_ip TEXT
);
"""


def _give_users_ids(c: sqlite3.Connection) -> None:
    """Users get immutable ids; refresh families were bound to names, so they end.

    Ending them costs each user one login; binding an old family to the
    current holder of its name would be exactly the flaw the ids close.
    """
    c.execute("ALTER TABLE users ADD COLUMN user_id TEXT")
    c.execute("UPDATE users SET user_id = lower(hex(randomblob(16)))")
    c.execute("DROP TABLE IF EXISTS refresh_tokens")
    c.execute("DROP TABLE IF EXISTS refresh_families")


def _give_keys_owners(c: sqlite3.Connection) -> None:
    """Keys made before they had owners belong to nobody: no deletion revokes them."""
    c.execute("ALTER TABLE api_keys ADD COLUMN owner_id TEXT")


UPGRADES: list[Callable[[sqlite3.Connection], None]] = [_give_users_ids, _give_keys_owners]
"""Upgrade ``n`` takes a file from ``user_version`` ``n`` to ``n + 1``."""


def prepare(c: sqlite3.Connection) -> None:
    """Bring the file to the current schema, whatever version it was left at."""
    c.execute("BEGIN IMMEDIATE")
    try:
        version = c.execute("PRAGMA user_version").fetchone()[0]
        has_tables = c.execute(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'users'"
        ).fetchone()[0]
        if has_tables:
            for upgrade in UPGRADES[version:]:
                upgrade(c)
        if version != len(UPGRADES):  # opening an up-to-date file writes nothing
            c.execute(f"PRAGMA user_version = {len(UPGRADES)}")
    except BaseException:
        c.rollback()
        raise
    c.commit()
    c.executescript(SCHEMA)
