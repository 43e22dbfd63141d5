"""The shared credential store: Redis, for any number of workers and hosts.

The caller owns the ``redis.asyncio`` client (and its timeouts); this adapter
only borrows it. Every multi-key change is one Lua script, so it is atomic;
revoked jtis are keys that expire with the token; the audit trail is a capped
list, newest first (the layout is in ``redis_keys``). Works whether or not the
client decodes responses.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from redis.asyncio import Redis

from auth.store import redis_scripts as lua
from auth.store.base import (
    AlreadyExists,
    ApiKeyRecord,
    AuditEvent,
    RefreshTokenRecord,
    SpendOutcome,
    SpendResult,
    UserRecord,
)
from auth.store.encoding import (
    from_micros,
    join_scopes,
    optional_datetime,
    split_scopes,
    to_micros,
    token_second,
)
from auth.store.redis_keys import RedisKeys

DEFAULT_KEY_PREFIX = "hapi:"
DEFAULT_AUDIT_CAPACITY = 10_000


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _pairs(flat: list[Any]) -> dict[str, str]:
    items = [_text(item) for item in flat]
    return dict(zip(items[::2], items[1::2], strict=True))


def _mapping(raw: dict[Any, Any]) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in raw.items()}


class RedisCredentialStore:
    def __init__(
        self,
        client: Redis,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        audit_capacity: int = DEFAULT_AUDIT_CAPACITY,
    ) -> None:
        self._redis = client
        self._names = RedisKeys(key_prefix)
        self._audit_capacity = audit_capacity
        self._create_user = client.register_script(lua.CREATE_USER)
        self._delete_user = client.register_script(lua.DELETE_USER)
        self._create_key = client.register_script(lua.CREATE_KEY)
        self._find_key = client.register_script(lua.FIND_KEY_BY_DIGEST)
        self._revoke_key = client.register_script(lua.REVOKE_KEY)
        self._rotate_key = client.register_script(lua.ROTATE_KEY)
        self._touch_key = client.register_script(lua.TOUCH_KEY)
        self._add_refresh = client.register_script(lua.ADD_REFRESH)
        self._spend_refresh = client.register_script(lua.SPEND_REFRESH)
        self._revoke_family = client.register_script(lua.REVOKE_FAMILY)

    # lifecycle

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        """The client belongs to the caller, who closes it."""

    # users

    async def create_user(self, user: UserRecord) -> None:
        created = await self._create_user(
            keys=[self._names.user(user.username), self._names.users],
            args=[
                user.username,
                user.password_hash,
                join_scopes(user.scopes),
                to_micros(user.created_at),
            ],
        )
        if not created:
            raise AlreadyExists(user.username)

    async def get_user(self, username: str) -> UserRecord | None:
        fields = _mapping(await self._redis.hgetall(self._names.user(username)))
        return _user_record(username, fields) if fields else None

    async def list_users(self) -> list[UserRecord]:
        names = sorted(_text(name) for name in await self._redis.smembers(self._names.users))
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(self._names.user(name))
            rows = await pipe.execute()
        return [
            _user_record(name, _mapping(raw)) for name, raw in zip(names, rows, strict=True) if raw
        ]

    async def count_users(self) -> int:
        return int(await self._redis.scard(self._names.users))

    async def delete_user(self, username: str) -> bool:
        deleted = await self._delete_user(
            keys=[
                self._names.user(username),
                self._names.users,
                self._names.user_families(username),
            ],
            args=[username, self._names.family("")],
        )
        return bool(deleted)

    # API keys

    async def create_key(self, key: ApiKeyRecord) -> None:
        fields: dict[str, str | int] = {
            "id": key.id,
            "name": key.name,
            "prefix": key.prefix,
            "secret_digest": key.secret_digest,
            "scopes": join_scopes(key.scopes),
            "rate_limit": key.rate_limit,
            "created_at": to_micros(key.created_at),
        }
        for name, moment in (
            ("expires_at", key.expires_at),
            ("last_used_at", key.last_used_at),
            ("revoked_at", key.revoked_at),
        ):
            if moment is not None:
                fields[name] = to_micros(moment)
        if key.created_by is not None:
            fields["created_by"] = key.created_by
        flat = [item for pair in fields.items() for item in pair]
        created = await self._create_key(
            keys=[
                self._names.key(key.id),
                self._names.digest_index(key.secret_digest),
                self._names.keys,
            ],
            args=[key.id, *flat],
        )
        if not created:
            raise AlreadyExists(key.id)

    async def get_key(self, key_id: str) -> ApiKeyRecord | None:
        fields = _mapping(await self._redis.hgetall(self._names.key(key_id)))
        return _key_record(fields) if fields else None

    async def find_key_by_digest(self, secret_digest: str) -> ApiKeyRecord | None:
        flat = await self._find_key(
            keys=[self._names.digest_index(secret_digest)], args=[self._names.key("")]
        )
        fields = _pairs(flat)
        return _key_record(fields) if fields else None

    async def list_keys(self) -> list[ApiKeyRecord]:
        ids = [_text(key_id) for key_id in await self._redis.smembers(self._names.keys)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key_id in ids:
                pipe.hgetall(self._names.key(key_id))
            rows = await pipe.execute()
        records = [_key_record(_mapping(raw)) for raw in rows if raw]
        return sorted(records, key=lambda record: (record.created_at, record.id))

    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        return bool(await self._revoke_key(keys=[self._names.key(key_id)], args=[to_micros(at)]))

    async def rotate_key(
        self, key_id: str, new_prefix: str, new_secret_digest: str
    ) -> ApiKeyRecord | None:
        """Refuses (``None``) a revoked key: revocation is final."""
        status, *flat = await self._rotate_key(
            keys=[self._names.key(key_id), self._names.digest_index(new_secret_digest)],
            args=[key_id, new_prefix, new_secret_digest, self._names.digest_index("")],
        )
        if status == -1:
            raise AlreadyExists(key_id)
        return _key_record(_pairs(flat)) if status == 1 else None

    async def touch_key(self, key_id: str, at: datetime) -> None:
        await self._touch_key(keys=[self._names.key(key_id)], args=[to_micros(at)])

    # refresh-token families

    async def add_refresh_token(self, token: RefreshTokenRecord) -> None:
        expires_at_us = to_micros(token.expires_at)
        added = await self._add_refresh(
            keys=[
                self._names.refresh(token.digest),
                self._names.family(token.family_id),
                self._names.user_families(token.username),
            ],
            args=[
                token.family_id,
                token.username,
                join_scopes(token.scopes),
                expires_at_us,
                expires_at_us // 1_000,
                time.time_ns() // 1_000_000,
            ],
        )
        if not added:
            raise AlreadyExists(token.family_id)

    async def spend_refresh_token(self, digest: str, now: datetime) -> SpendResult:
        outcome, *fields = [
            _text(item)
            for item in await self._spend_refresh(
                keys=[self._names.refresh(digest)], args=[to_micros(now), self._names.family("")]
            )
        ]
        if outcome == "invalid":
            return SpendResult(SpendOutcome.INVALID)
        family_id, username, scopes, expires_at = fields
        record = RefreshTokenRecord(
            digest=digest,
            family_id=family_id,
            username=username,
            scopes=split_scopes(scopes),
            expires_at=from_micros(expires_at),
        )
        return SpendResult(SpendOutcome(outcome), record)

    async def revoke_refresh_family(self, family_id: str) -> None:
        await self._revoke_family(keys=[self._names.family(family_id)], args=[])

    # access-token revocation

    async def revoke_access_token(self, jti: str, expires_at: datetime) -> None:
        remaining_ms = to_micros(expires_at) // 1_000 - time.time_ns() // 1_000_000
        if remaining_ms > 0:
            await self._redis.set(self._names.revoked_jti(jti), "1", px=remaining_ms)

    async def access_token_is_live(self, jti: str, username: str, issued_at: datetime) -> bool:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(self._names.revoked_jti(jti))
            pipe.hget(self._names.user(username), "created_at")
            revoked, created_at = await pipe.execute()
        if revoked or created_at is None:
            return False
        return token_second(from_micros(created_at)) <= token_second(issued_at)

    # audit

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


def _user_record(username: str, fields: dict[str, str]) -> UserRecord:
    return UserRecord(
        username=username,
        password_hash=fields["password_hash"],
        scopes=split_scopes(fields["scopes"]),
        created_at=from_micros(fields["created_at"]),
    )


def _key_record(fields: dict[str, str]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=fields["id"],
        name=fields["name"],
        prefix=fields["prefix"],
        secret_digest=fields["secret_digest"],
        scopes=split_scopes(fields["scopes"]),
        rate_limit=fields["rate_limit"],
        created_at=from_micros(fields["created_at"]),
        expires_at=optional_datetime(fields.get("expires_at")),
        last_used_at=optional_datetime(fields.get("last_used_at")),
        revoked_at=optional_datetime(fields.get("revoked_at")),
        created_by=fields.get("created_by"),
    )
