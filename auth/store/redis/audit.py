"""The audit trail in Redis: a capped list of JSON events, newest first."""

from __future__ import annotations

import json

from auth.store.base import AuditEvent
from auth.store.encoding import from_micros, to_micros
from auth.store.redis.base import RedisStoreBase

DEFAULT_AUDIT_CAPACITY = 10_000


class RedisAudit(RedisStoreBase):
    _audit_capacity: int = DEFAULT_AUDIT_CAPACITY

    async def append_audit(self, event: AuditEvent) -> None:
        entry = json.dumps(
            {
                "at": to_micros(event.at),
                "actor": event.actor,
                "action": event.action,
                "target": event.target,
                "client_ip": event.client_ip,
            }
        )
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(self._names.audit, entry)
            pipe.ltrim(self._names.audit, 0, self._audit_capacity - 1)
            await pipe.execute()

    async def list_audit(self, limit: int) -> list[AuditEvent]:
        if limit <= 0:
            return []
        entries = await self._redis.lrange(self._names.audit, 0, limit - 1)
        events = []
        for raw in entries:
            item = json.loads(raw)
            events.append(
                AuditEvent(
                    at=from_micros(item["at"]),
                    actor=item["actor"],
                    action=item["action"],
                    target=item["target"],
                    client_ip=item["client_ip"],
                )
            )
        return events
