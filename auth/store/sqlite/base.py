"""What every part of the SQLite adapter shares: the connection's owner thread."""

from __future__ import annotations

import time
from pathlib import Path

from auth.store.sqlite.thread import SqliteThread


def now_micros() -> int:
    return time.time_ns() // 1_000


class SqliteStoreBase:
    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5_000) -> None:
        self._db = SqliteThread(Path(path), busy_timeout_ms=busy_timeout_ms)
