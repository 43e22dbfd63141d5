"""Credential storage: one protocol, two adapters, and the choice between them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from auth.store.base import CredentialStore
from auth.store.redis import DEFAULT_KEY_PREFIX, RedisCredentialStore
from auth.store.sqlite import SqliteCredentialStore

__all__ = [
    "STORE_UNAVAILABLE",
    "CredentialStore",
    "RedisCredentialStore",
    "SqliteCredentialStore",
    "open_store",
]

STORE_UNAVAILABLE: tuple[type[Exception], ...] = (RedisError, sqlite3.OperationalError)
"""What a store raises when it cannot answer (down, timed out, locked): an outage, not a bug."""


def open_store(
    redis_client: Redis | None,
    sqlite_path: Path | str,
    *,
    key_prefix: str = DEFAULT_KEY_PREFIX,
) -> CredentialStore:
    """Redis when a client is given (shared by every worker and host), else the SQLite file.

    Nothing blocks here; ``await store.ping()`` to find out whether it answers.
    """
    if redis_client is not None:
        return RedisCredentialStore(redis_client, key_prefix=key_prefix)
    return SqliteCredentialStore(sqlite_path)
