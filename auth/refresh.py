"""Refresh tokens: opaque, single-use, grouped in families.

A password grant starts a family; each refresh grant spends the presented
token and issues its successor in the same family. Because every token is
single-use, a spent token presented again means two parties hold the chain
(one of them a thief), so the store revokes the whole family and both lose it.
Only the SHA-256 digest of a token is ever stored: the token has 256 random
bits, so a fast hash is enough and a stolen database yields no usable token.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from auth.store.base import CredentialStore, RefreshTokenRecord, SpendResult, UserRecord

REFRESH_TOKEN_BYTES = 32
DEFAULT_FAMILY_MAX_SECONDS = 30 * 86_400
"""A login lasts at most 30 days however often it is refreshed, then the user logs in again:
the re-authentication period OWASP ASVS 4.0.3 (V3.3.2, level 1) asks for."""


def new_refresh_token() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def refresh_token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedRefreshToken:
    token: str
    record: RefreshTokenRecord


class RefreshTokenFamilies:
    """Starts, continues and ends refresh-token families in a store."""

    def __init__(
        self,
        store: CredentialStore,
        *,
        ttl_seconds: int,
        family_max_seconds: int = DEFAULT_FAMILY_MAX_SECONDS,
    ) -> None:
        if ttl_seconds <= 0 or family_max_seconds <= 0:
            raise ValueError("ttl_seconds and family_max_seconds must be positive")
        self._store = store
        self._ttl = timedelta(seconds=ttl_seconds)
        self._family_max = timedelta(seconds=family_max_seconds)

    async def start(
        self, user: UserRecord, scopes: Iterable[str], now: datetime
    ) -> IssuedRefreshToken:
        """A new family bound to this instance of ``user``.

        Raises ``UnknownUser`` when the user was deleted (or deleted and
        re-created) since ``user`` was read: the store checks it in the write.
        """
        family = secrets.token_urlsafe(16)
        ends_at = now + self._family_max
        return await self._issue(family, ends_at, user.user_id, user.username, scopes, now)

    async def spend(self, token: str, now: datetime) -> SpendResult:
        return await self._store.spend_refresh_token(refresh_token_digest(token), now)

    async def continue_family(
        self, spent: RefreshTokenRecord, scopes: Iterable[str], now: datetime
    ) -> IssuedRefreshToken:
        """Issue the successor of ``spent``, just spent; ``UnknownUser`` as for ``start``."""
        return await self._issue(
            spent.family_id, spent.family_ends_at, spent.user_id, spent.username, scopes, now
        )

    async def revoke_family(self, family_id: str) -> None:
        await self._store.revoke_refresh_family(family_id)

    async def _issue(
        self,
        family_id: str,
        family_ends_at: datetime,
        user_id: str,
        username: str,
        scopes: Iterable[str],
        now: datetime,
    ) -> IssuedRefreshToken:
        token = new_refresh_token()
        record = RefreshTokenRecord(
            digest=refresh_token_digest(token),
            family_id=family_id,
            user_id=user_id,
            username=username,
            scopes=frozenset(scopes),
            # No token outlives its family: the sliding window stops at the family's end.
            expires_at=min(now + self._ttl, family_ends_at),
            family_ends_at=family_ends_at,
        )
        await self._store.add_refresh_token(record)
        return IssuedRefreshToken(token=token, record=record)
