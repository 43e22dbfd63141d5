"""The storage protocol both adapters (SQLite, Redis) implement.

Every method is a coroutine. Every write is atomic: a crash mid-call leaves
either the whole change or none of it. Nothing here ever holds a secret in
clear: passwords are stored as argon2 hashes, API keys and refresh tokens as
HMAC/SHA-256 digests computed by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol


class AlreadyExists(Exception):
    """A user with that username (or a key with that id) already exists."""


@dataclass(frozen=True, slots=True)
class UserRecord:
    username: str
    password_hash: str
    scopes: frozenset[str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    name: str
    prefix: str
    """The first characters of the secret, safe to show (``hpk_AbC1``)."""
    secret_digest: str
    """HMAC-SHA256 of the whole key under the server's pepper, hex."""
    scopes: frozenset[str]
    rate_limit: str
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    created_by: str | None = None


@dataclass(frozen=True, slots=True)
class RefreshTokenRecord:
    digest: str
    """SHA-256 of the opaque refresh token, hex."""
    family_id: str
    username: str
    scopes: frozenset[str]
    expires_at: datetime


class SpendOutcome(Enum):
    SPENT = "spent"
    """The token was live; it is now spent and the caller may issue its successor."""
    REUSED = "reused"
    """The token was already spent: the whole family has just been revoked."""
    INVALID = "invalid"
    """Unknown, expired, or its family is revoked."""


@dataclass(frozen=True, slots=True)
class SpendResult:
    outcome: SpendOutcome
    record: RefreshTokenRecord | None = None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: datetime
    actor: str
    action: str
    target: str
    client_ip: str | None


class CredentialStore(Protocol):
    async def ping(self) -> bool: ...
    async def close(self) -> None: ...

    # users
    async def create_user(self, user: UserRecord) -> None:
        """Raise ``AlreadyExists`` when the username is taken."""

    async def get_user(self, username: str) -> UserRecord | None: ...
    async def list_users(self) -> list[UserRecord]: ...
    async def count_users(self) -> int: ...
    async def delete_user(self, username: str) -> bool:
        """Delete the user and revoke every refresh family of theirs. ``False`` if unknown."""

    # API keys
    async def create_key(self, key: ApiKeyRecord) -> None: ...
    async def get_key(self, key_id: str) -> ApiKeyRecord | None: ...
    async def find_key_by_digest(self, secret_digest: str) -> ApiKeyRecord | None: ...
    async def list_keys(self) -> list[ApiKeyRecord]: ...
    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        """Mark revoked (kept for audit). ``False`` if unknown or already revoked."""

    async def rotate_key(
        self, key_id: str, new_prefix: str, new_secret_digest: str
    ) -> ApiKeyRecord | None:
        """Swap the secret atomically; the old digest stops matching at once."""

    async def touch_key(self, key_id: str, at: datetime) -> None: ...

    # refresh-token families
    async def add_refresh_token(self, token: RefreshTokenRecord) -> None: ...
    async def spend_refresh_token(self, digest: str, now: datetime) -> SpendResult:
        """Atomically spend a refresh token; a second spend revokes its family."""

    async def revoke_refresh_family(self, family_id: str) -> None: ...

    # access-token revocation
    async def revoke_access_token(self, jti: str, expires_at: datetime) -> None:
        """Remember ``jti`` as revoked until the token would have expired anyway."""

    async def access_token_is_live(self, jti: str, username: str, issued_at: datetime) -> bool:
        """One round trip: jti not revoked, and the user exists and predates the token."""

    # audit
    async def append_audit(self, event: AuditEvent) -> None: ...
    async def list_audit(self, limit: int) -> list[AuditEvent]: ...
