"""Wire types of the admin endpoints. No secret or hash ever appears in an answer type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Scope = Literal["predict", "admin", "metrics"]
SortedScopes = Annotated[list[str], BeforeValidator(sorted)]
_STRICT = ConfigDict(extra="forbid", strict=True)
NewPassword = Annotated[
    str,
    Field(
        min_length=1,
        max_length=1024,
        description="At least 15 characters (PASSWORD_MIN_LENGTH), not a common password",
    ),
]
"""Bounded here, at the edge, so an over-long one never reaches the hasher (or the throttle)."""


class KeyCreate(BaseModel):
    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [{"name": "batch-job", "scopes": ["predict"], "rate_limit": "100/minute"}]
        },
    )
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1, max_length=3)
    rate_limit: str | None = Field(
        None, max_length=64, description="e.g. '100/minute'; the configured default if omitted"
    )
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class KeyUpdate(BaseModel):
    """Rename or re-limit a key; the secret stays the same. At least one field."""

    model_config = ConfigDict(
        **_STRICT, json_schema_extra={"examples": [{"rate_limit": "1000/minute"}]}
    )
    name: str | None = Field(None, min_length=1, max_length=100)
    rate_limit: str | None = Field(None, max_length=64, description="e.g. '1000/minute'")

    @model_validator(mode="after")
    def _something_to_change(self) -> KeyUpdate:
        if self.name is None and self.rate_limit is None:
            raise ValueError("give name, rate_limit or both")
        return self


class PasswordReset(BaseModel):
    model_config = _STRICT
    new_password: NewPassword


class _FromRecord(BaseModel):
    """Read from a store record's attributes: only the declared fields, never a secret."""

    model_config = ConfigDict(from_attributes=True)


class KeyOut(_FromRecord):
    id: str
    name: str
    prefix: str
    scopes: SortedScopes
    rate_limit: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The secret: shown this once, never stored in clear")


class UserCreate(BaseModel):
    model_config = _STRICT
    username: str = Field(min_length=1, max_length=64)
    password: NewPassword
    scopes: list[Scope] = Field(min_length=1, max_length=3)


class UserOut(_FromRecord):
    username: str
    scopes: SortedScopes
    created_at: datetime


class AuditOut(_FromRecord):
    at: datetime
    actor: str
    action: str
    target: str
    client_ip: str | None
