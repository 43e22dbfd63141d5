"""The embedded credential store: one SQLite file in WAL mode.

Good for one host. Every call runs on the store's own thread (see
``thread.SqliteThread``); every write is one transaction. The adapter is
assembled from one part per idea (users, and the tokens bound to them; API
keys; audit; the change feed).
"""

from __future__ import annotations

from auth.store.sqlite.api_keys import SqliteApiKeys
from auth.store.sqlite.audit import SqliteAudit
from auth.store.sqlite.feed import SqliteChangeFeed
from auth.store.sqlite.tokens import SqliteTokens

__all__ = ["SqliteCredentialStore"]


class SqliteCredentialStore(SqliteTokens, SqliteApiKeys, SqliteAudit, SqliteChangeFeed):
    async def ping(self) -> bool:
        return await self._db.read(lambda c: c.execute("SELECT 1").fetchone() == (1,))

    async def close(self) -> None:
        await self._db.close()
