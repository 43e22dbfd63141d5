"""The storage protocol both adapters (SQLite, Redis) implement.

Every method is a coroutine. Every write is atomic: a crash mid-call leaves
either the whole change or none of it. Nothing here ever holds a secret in
clear: passwords are stored as argon2 hashes, API keys and refresh tokens as
HMAC/SHA-256 digests computed by the caller.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Protocol

from auth.store.changes import ChangeListener


def new_user_id() -> str:
    """128 random bits: an id no other user instance, past or future, will have."""
    return secrets.token_hex(16)


class AlreadyExists(Exception):
    """A user with that username (or a key with that id) already exists."""


class LastAdmin(Exception):
    """The change would leave no user with the ``admin`` scope; checked in the same write."""


class UnknownUser(Exception):
    """The user instance a new record was to be bound to no longer exists.

    Raised by the write itself, atomically: a login that raced the user's
    deletion gets this instead of a refresh token that would outlive it.
    """


@dataclass(frozen=True, slots=True)
class UserRecord:
    username: str
    password_hash: str
    scopes: frozenset[str]
    created_at: datetime
    user_id: str
    """Random, immutable, never reused: this *instance* of the user.

    Everything bound to a user (tokens, refresh families) holds this id, not
    the name, so a deleted user's credentials never work for a new account
    of the same name, even one created in the same second.
    """


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
    """Who created the key, for people (``user:alice``, ``key:1f2e``, ``cli``)."""
    owner_id: str | None = None
    """The user instance that owns the key (``UserRecord.user_id``): the user who created
    it, or the owner of the key that did. Deleting that user revokes the key. ``None``:
    no user owns it (made from the command line)."""


@dataclass(frozen=True, slots=True)
class RefreshTokenRecord:
    digest: str
    """SHA-256 of the opaque refresh token, hex."""
    family_id: str
    user_id: str
    """The user instance the family belongs to (``UserRecord.user_id``)."""
    username: str
    scopes: frozenset[str]
    expires_at: datetime
    family_ends_at: datetime
    """The family's absolute end, fixed when it starts: refreshing never moves it."""


class SpendOutcome(Enum):
    SPENT = "spent"
    """The token was live; it is now spent and the caller may issue its successor."""
    REUSED = "reused"
    """The token was already spent: the whole family has just been revoked."""
    INVALID = "invalid"
    """Unknown, expired, its family revoked or ended, or its user instance gone."""


@dataclass(frozen=True, slots=True)
class SpendResult:
    outcome: SpendOutcome
    record: RefreshTokenRecord | None = None


@dataclass(frozen=True, slots=True)
class FamilyRecord:
    """A refresh family: one login session, and every token issued in it."""

    family_id: str
    user_id: str
    revoked: bool
    expires_at: datetime
    """When its last refresh token expires; the family (and its access tokens) end then."""
    ends_at: datetime
    """Its absolute end, however often it is refreshed."""

    def is_live(self, now: datetime) -> bool:
        return not self.revoked and now < self.expires_at and now < self.ends_at


@dataclass(frozen=True, slots=True)
class AccessTokenFacts:
    """What the store knows that decides whether an access token still works."""

    revoked: bool
    """Its jti was revoked."""
    user: UserRecord | None
    """The user named by its ``sub`` now (``None``: no such user)."""
    family: FamilyRecord | None
    """The refresh family named by its ``sid`` (``None``: unknown, or ended and forgotten)."""


@dataclass(frozen=True, slots=True)
class AuditEvent:
    at: datetime
    actor: str
    action: str
    target: str
    client_ip: str | None


class CredentialStore(Protocol):
    """Every write that ends or alters a credential tells the store's change listeners.

    It names what it changed (``changes``): to listeners in this process before
    it returns, and to every other process that may cache credentials no later
    than the write is visible to them.
    """

    async def ping(self) -> bool: ...
    async def close(self) -> None: ...
    async def follow_changes(self, listener: ChangeListener) -> None:
        """Tell ``listener`` of every change, from any process, until cancelled.

        It calls ``listener.resync()`` once following, ``confirm`` as it
        learns that nothing was missed, and ``lost()`` when it can no longer
        tell (and ``resync()`` again when it can).
        """

    # users
    async def create_user(self, user: UserRecord) -> None:
        """Raise ``AlreadyExists`` when the username is taken."""

    async def get_user(self, username: str) -> UserRecord | None: ...
    async def list_users(self) -> list[UserRecord]: ...
    async def count_users(self) -> int: ...
    async def set_user_scopes(self, username: str, scopes: frozenset[str]) -> UserRecord | None:
        """Change what the user may do; their tokens shrink with it. ``None`` if unknown;
        ``LastAdmin`` when it would take ``admin`` from the only user holding it."""

    async def set_user_password(
        self, username: str, password_hash: str, keep_family: str | None = None
    ) -> UserRecord | None:
        """Change the password and end every login of the user (refresh family, and with it
        its access tokens) but ``keep_family``, the one that made the change. ``None`` if
        unknown."""

    async def delete_user(self, username: str, at: datetime) -> bool:
        """Delete the user, revoke every refresh family and every key they own, at once.

        ``at`` is the owned keys' ``revoked_at``. ``False`` if unknown; ``LastAdmin``
        when the user is the only one holding ``admin``.
        """

    # API keys
    async def create_key(self, key: ApiKeyRecord) -> None:
        """Raise ``UnknownUser`` when ``key.owner_id`` names no user, checked in the same write."""

    async def get_key(self, key_id: str) -> ApiKeyRecord | None: ...
    async def find_key_by_digest(self, secret_digest: str) -> ApiKeyRecord | None: ...
    async def list_keys(self) -> list[ApiKeyRecord]: ...
    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        """Mark revoked (kept for audit). ``False`` if unknown or already revoked."""

    async def rotate_key(
        self, key_id: str, new_prefix: str, new_secret_digest: str
    ) -> ApiKeyRecord | None:
        """Swap the secret atomically; the old digest stops matching at once."""

    async def update_key(
        self, key_id: str, *, name: str | None = None, rate_limit: str | None = None
    ) -> ApiKeyRecord | None:
        """Rename or re-limit a key, not its secret. ``None`` if unknown."""

    async def touch_keys(self, uses: Mapping[str, datetime]) -> None:
        """Record when keys were last used (``id -> moment``), in one round trip.

        A moment older than the one stored is ignored (workers flush at different times);
        unknown ids are skipped. Nothing is announced: a key's use changes no credential.
        """

    # refresh-token families
    async def add_refresh_token(self, token: RefreshTokenRecord) -> None:
        """Raise ``UnknownUser`` unless ``token.user_id`` exists, checked in the same write.

        The first token of a family fixes its ``family_ends_at``; later ones cannot move it.
        """

    async def spend_refresh_token(self, digest: str, now: datetime) -> SpendResult:
        """Atomically spend a refresh token; a second spend revokes its family.

        A token whose user instance is gone is ``INVALID`` (and its family revoked).
        """

    async def revoke_refresh_family(self, family_id: str) -> None: ...

    # access-token revocation
    async def revoke_access_token(self, jti: str, expires_at: datetime) -> None:
        """Remember ``jti`` as revoked until the token would have expired anyway."""

    async def access_token_facts(self, jti: str, username: str, family_id: str) -> AccessTokenFacts:
        """In one round trip: is ``jti`` revoked, the user named ``username``, the family."""

    # audit
    async def append_audit(self, event: AuditEvent) -> None: ...
    async def list_audit(self, limit: int) -> list[AuditEvent]: ...
