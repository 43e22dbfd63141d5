"""The admin audit trail: who did what to which target, when, from where."""

from __future__ import annotations

from auth.clock import Clock, utc_now
from auth.store.base import AuditEvent, CredentialStore

MAX_AUDIT_PAGE = 1000


class AuditLog:
    def __init__(self, store: CredentialStore, *, clock: Clock = utc_now) -> None:
        self._store = store
        self._clock = clock

    async def record(
        self, actor: str, action: str, target: str, client_ip: str | None = None
    ) -> AuditEvent:
        event = AuditEvent(
            at=self._clock(), actor=actor, action=action, target=target, client_ip=client_ip
        )
        await self._store.append_audit(event)
        return event

    async def recent(self, limit: int = 100) -> list[AuditEvent]:
        """Newest first; ``limit`` is clamped to 0..MAX_AUDIT_PAGE."""
        return await self._store.list_audit(max(0, min(limit, MAX_AUDIT_PAGE)))
