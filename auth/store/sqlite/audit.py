"""The audit trail in SQLite: one row per event, newest first by rowid."""

from __future__ import annotations

from auth.store.base import AuditEvent
from auth.store.encoding import from_micros, to_micros
from auth.store.sqlite.base import SqliteStoreBase


class SqliteAudit(SqliteStoreBase):
    async def append_audit(self, event: AuditEvent) -> None:
        await self._db.write(
            lambda c: c.execute(
                "INSERT INTO audit_events (at, actor, action, target, client_ip) "
                "VALUES (?, ?, ?, ?, ?)",
                (to_micros(event.at), event.actor, event.action, event.target, event.client_ip),
            )
        )

    async def list_audit(self, limit: int) -> list[AuditEvent]:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT at, actor, action, target, client_ip FROM audit_events "
                "ORDER BY id DESC LIMIT ?",
                (max(limit, 0),),
            ).fetchall()
        )
        return [AuditEvent(from_micros(row[0]), *row[1:]) for row in rows]
