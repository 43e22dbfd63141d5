"""API keys: issue, list, revoke, rotate, and check one presented by a client.

A check reads through the principal cache (``lookups``): no store round trip
when the key is cached, and a revoked or rotated key is refused by every
worker from the moment the change reaches it. A check writes nothing: uses
are noted in memory and written in batches (``key_usage``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from auth import validation
from auth.api_keys import ApiKeyDigester, display_prefix, generate_api_key, is_well_formed
from auth.cache import CredentialCache
from auth.clock import Clock, utc_now
from auth.errors import InvalidInput
from auth.key_usage import KeyUsage
from auth.lookups import CredentialLookups
from auth.store.base import ApiKeyRecord, CredentialStore

MAX_EXPIRES_IN_DAYS = 3650


@dataclass(frozen=True, slots=True)
class IssuedApiKey:
    record: ApiKeyRecord
    secret: str
    """The key itself: shown to the admin once, never stored."""


class KeyService:
    def __init__(
        self,
        store: CredentialStore,
        digester: ApiKeyDigester,
        *,
        usage: KeyUsage | None = None,
        lookups: CredentialLookups | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._digester = digester
        self._usage = usage or KeyUsage(store)
        self._lookups = lookups or CredentialLookups(store, CredentialCache())
        self._clock = clock

    async def create(
        self,
        name: str,
        scopes: Iterable[str],
        rate_limit: str,
        *,
        expires_in_days: int | None = None,
        created_by: str | None = None,
        owner_id: str | None = None,
        granter_scopes: frozenset[str] | None = None,
    ) -> IssuedApiKey:
        """Raise ``InvalidInput`` for an unknown scope, a bad limit, name or lifetime.

        ``owner_id`` is the user instance the key belongs to (the creator's
        ``Principal.user_id``); deleting that user revokes the key. Raise
        ``UnknownUser`` when that user no longer exists.
        """
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRES_IN_DAYS:
            raise InvalidInput(
                f"expires_in_days must be between 1 and {MAX_EXPIRES_IN_DAYS}", "expires_in_days"
            )
        wanted = validation.known_scopes(scopes)
        validation.within_ceiling(wanted, granter_scopes)
        now = self._clock()
        secret = generate_api_key()
        record = ApiKeyRecord(
            id=secrets.token_hex(8),
            name=validation.key_name(name),
            prefix=display_prefix(secret),
            secret_digest=self._digester.digest(secret),
            scopes=wanted,
            rate_limit=validation.rate_limit(rate_limit),
            created_at=now,
            expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
            created_by=created_by,
            owner_id=owner_id,
        )
        await self._store.create_key(record)
        return IssuedApiKey(record=record, secret=secret)

    async def get(self, key_id: str) -> ApiKeyRecord | None:
        record = await self._store.get_key(key_id)
        return None if record is None else self._usage.merged(record)

    async def list(self) -> list[ApiKeyRecord]:
        return [self._usage.merged(record) for record in await self._store.list_keys()]

    async def update(
        self, key_id: str, *, name: str | None = None, rate_limit: str | None = None
    ) -> ApiKeyRecord | None:
        """Rename or re-limit a key, same secret; every worker applies it at once.

        ``None`` when unknown; ``InvalidInput`` for a bad name or limit.
        """
        record = await self._store.update_key(
            key_id,
            name=None if name is None else validation.key_name(name),
            rate_limit=None if rate_limit is None else validation.rate_limit(rate_limit),
        )
        return None if record is None else self._usage.merged(record)

    async def revoke(self, key_id: str) -> bool:
        """``False`` when the key is unknown or already revoked."""
        return await self._store.revoke_key(key_id, self._clock())

    async def rotate(self, key_id: str) -> IssuedApiKey | None:
        """A new secret for the same key; ``None`` when unknown or revoked."""
        secret = generate_api_key()
        record = await self._store.rotate_key(
            key_id, display_prefix(secret), self._digester.digest(secret)
        )
        return None if record is None else IssuedApiKey(record=record, secret=secret)

    async def _find(self, secret: str) -> ApiKeyRecord | None:
        """Look the key up under each pepper, current first; re-tag one found under an old one."""
        current, *older = self._digester.candidates(secret)
        record = await self._lookups.key_by_digest(current)
        if record is not None or not older:
            return record
        for digest in older:
            record = await self._lookups.key_by_digest(digest)
            if record is not None:
                retagged = await self._store.rotate_key(record.id, record.prefix, current)
                return retagged or record
        return None

    async def check(self, secret: str) -> ApiKeyRecord | None:
        """The live key whose secret this is, or ``None``; a typo never reaches the store."""
        if not is_well_formed(secret):
            return None
        record = await self._find(secret)
        now = self._clock()
        if record is None or record.revoked_at is not None:
            return None
        if record.expires_at is not None and record.expires_at <= now:
            return None
        self._usage.record(record.id, now)
        return record
