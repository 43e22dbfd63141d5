"""Wire types of the admin endpoints. No secret or hash ever appears in an answer type."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from auth.store.base import ApiKeyRecord, AuditEvent, UserRecord

Scope = Literal["predict", "admin"]
_STRICT = ConfigDict(extra="forbid", strict=True)


class KeyCreate(BaseModel):
    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [{"name": "batch-job", "scopes": ["predict"], "rate_limit": "100/minute"}]
        },
    )
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=2)
    rate_limit: str | None = Field(
        None, max_length=64, description="e.g. '100/minute'; the configured default if omitted"
    )
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class KeyOut(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    rate_limit: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    @classmethod
    def of(cls, record: ApiKeyRecord) -> KeyOut:
        return cls(
            id=record.id,
            name=record.name,
            prefix=record.prefix,
            scopes=sorted(record.scopes),
            rate_limit=record.rate_limit,
            created_at=record.created_at,
            expires_at=record.expires_at,
            last_used_at=record.last_used_at,
            revoked_at=record.revoked_at,
        )


class KeyCreated(KeyOut):
    key: str = Field(description="The secret: shown this once, never stored in clear")


class UserCreate(BaseModel):
    model_config = _STRICT
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=8, max_length=1024)
    scopes: list[Scope] = Field(min_length=1, max_length=2)


class UserOut(BaseModel):
    username: str
    scopes: list[str]
    created_at: datetime

    @classmethod
    def of(cls, record: UserRecord) -> UserOut:
        return cls(
            username=record.username, scopes=sorted(record.scopes), created_at=record.created_at
        )


class AuditOut(BaseModel):
    at: datetime
    actor: str
    action: str
    target: str
    client_ip: str | None

    @classmethod
    def of(cls, event: AuditEvent) -> AuditOut:
        return cls(
            at=event.at,
            actor=event.actor,
            action=event.action,
            target=event.target,
            client_ip=event.client_ip,
        )
