"""One SQLite connection owned by one worker thread.

sqlite3 calls block, so none may run on the event loop. A single dedicated
thread owns the connection: calls queue up in order, no connection is shared
between threads, and each write runs inside one ``BEGIN IMMEDIATE``
transaction (taking the write lock up front, so concurrent writers from other
processes wait on ``busy_timeout`` instead of failing half-way).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from auth.store.sqlite.schema import prepare

T = TypeVar("T")


class SqliteThread:
    def __init__(self, path: Path, *, busy_timeout_ms: int = 5_000) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._connection: sqlite3.Connection | None = None
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="auth-sqlite")
        # Open (and create the schema) right away, in the owning thread.
        self._executor.submit(self._connect)

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._submit(lambda: work(self._connect()))

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        return await self._submit(lambda: self._in_transaction(work))

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._submit(self._disconnect)
        self._executor.shutdown(wait=True)

    async def _submit(self, job: Callable[[], T]) -> T:
        return await asyncio.wrap_future(self._executor.submit(job))

    def _in_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self._connect()
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(connection)
        except BaseException:
            connection.rollback()
            raise
        connection.commit()
        return result

    def _connect(self) -> sqlite3.Connection:
        if self._connection is not None:
            return self._connection
        self._path.parent.mkdir(parents=True, exist_ok=True)
        if not self._path.exists():
            # The file holds password hashes: readable by its owner only.
            os.close(os.open(self._path, os.O_CREAT | os.O_WRONLY, 0o600))
        connection = sqlite3.connect(self._path, isolation_level=None)
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            connection.execute("PRAGMA journal_mode = WAL")
            # FULL: an acknowledged revocation survives a power loss (writes are rare).
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
            prepare(connection)
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        return connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
