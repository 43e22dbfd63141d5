"""Where logged predictions go: a capped Redis stream, or a capped SQLite table.

Both keep at most ``max_entries`` entries per model version (the newest), an
entry holding at most ``CHUNK_ROWS`` rows, so the log is a window and never
an ever-growing archive; both answer "the newest N rows of a version" for
drift.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from redis.asyncio import Redis

from app.predlog.record import CHUNK_ROWS, LoggedPrediction, PredictionEvent, newest_rows

STREAM_PREFIX = "hapi:predictions:"
"""Inside the app's Redis key space (its ACL allows ``hapi:*`` only)."""


class PredictionSink(Protocol):
    async def write(self, events: Sequence[PredictionEvent]) -> None:
        """Store events of at most ``CHUNK_ROWS`` rows each."""
        ...

    async def newest(self, version: str, count: int) -> list[LoggedPrediction]:
        """Up to ``count`` of the version's newest rows, newest first."""
        ...

    async def close(self) -> None: ...


def _entries_for(count: int) -> int:
    """Entries to read for ``count`` rows: every entry may hold a single row."""
    return max(count, 1)


class RedisStreamSink:
    """One stream per version, trimmed approximately (``MAXLEN ~``, O(1) per add)."""

    def __init__(self, client: Redis, max_entries: int, *, owns_client: bool = False) -> None:
        self._client = client
        self._max_entries = max_entries
        self._owns_client = owns_client

    async def write(self, events: Sequence[PredictionEvent]) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for event in events:
                pipe.xadd(
                    STREAM_PREFIX + event.version,
                    event.fields(),  # type: ignore[arg-type]
                    maxlen=self._max_entries,
                    approximate=True,
                )
            await pipe.execute()

    async def newest(self, version: str, count: int) -> list[LoggedPrediction]:
        events: list[PredictionEvent] = []
        rows, before = 0, "+"
        while rows < count:
            page = await self._client.xrevrange(
                STREAM_PREFIX + version, max=before, count=min(_entries_for(count - rows), 1000)
            )
            if not page:
                break
            for entry_id, fields in page:
                if entry_id is None or fields is None:
                    continue
                event = PredictionEvent.from_fields(version, _decoded(fields))
                events.append(event)
                rows += len(event.prices)
                before = f"({_text(entry_id)}"  # exclusive: the next page starts below it
        return newest_rows(events, count)

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()


def _decoded(fields: dict[bytes | str, bytes | str]) -> dict[str, str]:
    return {_text(key): _text(value) for key, value in fields.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


SCHEMA = """
CREATE TABLE IF NOT EXISTS prediction_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    version TEXT NOT NULL,
    model_sha256 TEXT NOT NULL,
    rows TEXT NOT NULL,
    prices TEXT NOT NULL,
    at REAL NOT NULL,
    principal TEXT NOT NULL,
    request_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS prediction_events_by_version ON prediction_events (version, id);
"""
COLUMNS = ("model_sha256", "rows", "prices", "at", "principal", "request_id")


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

    async def write(self, events: Sequence[PredictionEvent]) -> None:
        async with self._lock:
            await asyncio.to_thread(self._write, events)

    def _write(self, events: Sequence[PredictionEvent]) -> None:
        connection = self._connect()
        with connection:
            connection.executemany(
                f"INSERT INTO prediction_events (version, {', '.join(COLUMNS)})"  # noqa: S608
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (event.version, *(event.fields()[column] for column in COLUMNS))
                    for event in events
                ],
            )
            for version in {event.version for event in events}:
                connection.execute(
                    "DELETE FROM prediction_events WHERE version = ? AND id <= ("
                    " SELECT id FROM prediction_events WHERE version = ?"
                    " ORDER BY id DESC LIMIT 1 OFFSET ?)",
                    (version, version, self._max_entries),
                )

    async def newest(self, version: str, count: int) -> list[LoggedPrediction]:
        async with self._lock:
            return await asyncio.to_thread(self._newest, version, count)

    def _newest(self, version: str, count: int) -> list[LoggedPrediction]:
        cursor = self._connect().execute(
            f"SELECT {', '.join(COLUMNS)} FROM prediction_events"  # noqa: S608
            " WHERE version = ? ORDER BY id DESC",
            (version,),
        )
        events: list[PredictionEvent] = []
        rows = 0
        while rows < count and (record := cursor.fetchone()) is not None:
            fields = dict(zip(COLUMNS, (str(value) for value in record), strict=True))
            fields["at"] = repr(float(record[3]))
            event = PredictionEvent.from_fields(version, fields)
            events.append(event)
            rows += len(event.prices)
        cursor.close()
        return newest_rows(events, count)

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


__all__ = ["CHUNK_ROWS", "PredictionSink", "RedisStreamSink", "SqliteSink"]
