"""Where logged predictions go: a capped Redis stream, or a capped SQLite table.

Both keep at most ``max_entries`` per model version (the newest) so the log
is a window, not an ever-growing archive; both answer "the newest N of a
version" for drift.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from redis.asyncio import Redis

from app.predlog.record import LoggedPrediction

STREAM_PREFIX = "hapi:predictions:"
"""Inside the app's Redis key space (its ACL allows ``hapi:*`` only)."""


class PredictionSink(Protocol):
    async def write(self, entries: Sequence[LoggedPrediction]) -> None: ...

    async def newest(self, version: str, count: int) -> list[LoggedPrediction]:
        """Up to ``count`` of the version's newest entries, newest first."""
        ...

    async def close(self) -> None: ...


class RedisStreamSink:
    """One stream per version, trimmed approximately (``MAXLEN ~``, O(1) per add)."""

    def __init__(self, client: Redis, max_entries: int, *, owns_client: bool = False) -> None:
        self._client = client
        self._max_entries = max_entries
        self._owns_client = owns_client

    async def write(self, entries: Sequence[LoggedPrediction]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.xadd(
                    STREAM_PREFIX + entry.version,
                    entry.fields(),  # type: ignore[arg-type]
                    maxlen=self._max_entries,
                    approximate=True,
                )
            await pipe.execute()

    async def newest(self, version: str, count: int) -> list[LoggedPrediction]:
        raw = await self._client.xrevrange(STREAM_PREFIX + version, count=count) or []
        return [
            LoggedPrediction.from_fields(version, _decoded(fields))
            for _, fields in raw[:count]
            if fields
        ]

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _decoded(fields: dict[bytes | str, bytes | str]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in fields.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


SCHEMA = """
CREATE TABLE IF NOT EXISTS predictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    features TEXT NOT NULL,
    price REAL NOT NULL,
    at REAL NOT NULL,
    principal TEXT NOT NULL,
    request_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS predictions_by_version ON predictions (version, id);
"""


class SqliteSink:
    """The embedded default: a table in its own file under ``STATE_DIR``.

    Its own file (not the credential store's) so the log's write traffic never
    holds the lock that logins and key changes wait on. Each write trims the
    versions it touched back to ``max_entries``.
    """

    def __init__(self, path: Path, max_entries: int) -> None:
        self._path = path
        self._max_entries = max_entries
        self._lock = asyncio.Lock()
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            fresh = not self._path.exists()
            connection = sqlite3.connect(self._path, timeout=5.0, check_same_thread=False)
            if fresh:
                self._path.chmod(0o600)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
            self._connection = connection
        return self._connection

    async def write(self, entries: Sequence[LoggedPrediction]) -> None:
        async with self._lock:
            await asyncio.to_thread(self._write, entries)

    def _write(self, entries: Sequence[LoggedPrediction]) -> None:
        connection = self._connect()
        with connection:
            connection.executemany(
                "INSERT INTO predictions (version, model_sha256, features, price, at,"
                " principal, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        entry.version,
                        entry.model_sha256,
                        entry.fields()["features"],
                        entry.price,
                        entry.at,
                        entry.principal,
                        entry.request_id,
                    )
                    for entry in entries
                ],
            )
            for version in {entry.version for entry in entries}:
                connection.execute(
                    "DELETE FROM predictions WHERE version = ? AND id <= ("
                    " SELECT id FROM predictions WHERE version = ?"
                    " ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (version, version, self._max_entries),
                )

    async def newest(self, version: str, count: int) -> list[LoggedPrediction]:
        async with self._lock:
            return await asyncio.to_thread(self._newest, version, count)

    def _newest(self, version: str, count: int) -> list[LoggedPrediction]:
        rows = (
            self._connect()
            .execute(
                "SELECT model_sha256, features, price, at, principal, request_id"
                " FROM predictions WHERE version = ? ORDER BY id DESC LIMIT ?",
                (version, count),
            )
            .fetchall()
        )
        return [
            LoggedPrediction.from_fields(
                version,
                {
                    "model_sha256": sha,
                    "features": features,
                    "price": repr(price),
                    "at": repr(at),
                    "principal": principal,
                    "request_id": request_id,
                },
            )
            for sha, features, price, at, principal, request_id in rows
        ]

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
