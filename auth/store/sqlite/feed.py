"""Following changes to the SQLite file: this process's writes, and any other's.

This process's own writes tell its listeners directly (``base._change``), so
the one process the embedded store is meant for needs nothing more. Another
process may still write the same file (``housing-api`` commands run beside
the server): ``PRAGMA data_version`` changes when another connection has
committed, so a poll of it every ``POLL_SECONDS`` (one read on the store's
thread, microseconds of work) sees such a change and the listener forgets
everything it holds, since the change does not say what it touched.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

from auth.store.changes import ChangeListener
from auth.store.sqlite.base import SqliteStoreBase

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.25
RETRY_SECONDS = 0.5


def _data_version(c: sqlite3.Connection) -> int:
    version: int = c.execute("PRAGMA data_version").fetchone()[0]
    return version


class SqliteChangeFeed(SqliteStoreBase):
    async def follow_changes(self, listener: ChangeListener) -> None:
        self._fanout.add(listener)
        try:
            while True:
                try:
                    await self._follow(listener)
                except sqlite3.Error as exc:
                    logger.warning("credential change feed lost: %s", exc)
                listener.lost()
                await asyncio.sleep(RETRY_SECONDS)
        finally:
            listener.lost()
            self._fanout.remove(listener)

    async def _follow(self, listener: ChangeListener) -> None:
        seen = await self._db.read(_data_version)
        listener.resync()
        while True:
            await asyncio.sleep(POLL_SECONDS)
            checked = time.monotonic()
            version = await self._db.read(_data_version)
            if version != seen:
                seen = version
                listener.resync()
            else:
                listener.confirm(checked)
