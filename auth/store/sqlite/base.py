"""What every part of the SQLite adapter shares: the connection's owner thread, the listeners."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from auth.store.changes import ChangeFanout
from auth.store.sqlite.thread import SqliteThread

T = TypeVar("T")

Changed = list[str]
"""Entry names a write changed (``auth.store.changes``)."""


def now_micros() -> int:
    return time.time_ns() // 1_000


def user_exists(c: sqlite3.Connection, user_id: str) -> bool:
    """Whether that user *instance* exists: the check every write bound to a user makes."""
    return c.execute("SELECT 1 FROM users WHERE user_id = ?", (user_id,)).fetchone() is not None


class SqliteStoreBase:
    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5_000) -> None:
        self._db = SqliteThread(Path(path), busy_timeout_ms=busy_timeout_ms)
        self._fanout = ChangeFanout()

    async def _change(self, work: Callable[[sqlite3.Connection], tuple[T, Changed]]) -> T:
        """Run a changing write; this process's listeners forget what it changed, once committed."""
        result, changed = await self._db.write(work)
        self._fanout.invalidate(changed)
        return result
