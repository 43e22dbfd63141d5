"""The credential reads on the request path, through the principal cache.

A hit costs no store round trip; a miss costs one, whatever it misses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from auth.cache import CredentialCache, Fact
from auth.store.base import (
    AccessTokenFacts,
    ApiKeyRecord,
    CredentialStore,
    FamilyRecord,
    UserRecord,
)
from auth.store.changes import family_entry, jti_entry, key_entry, user_entry

T = TypeVar("T")


class CredentialLookups:
    def __init__(self, store: CredentialStore, cache: CredentialCache) -> None:
        self._store = store
        self._cache = cache

    async def key_by_digest(self, secret_digest: str) -> ApiKeyRecord | None:
        name = key_entry(secret_digest)

        async def load() -> Mapping[str, Fact | None]:
            return {name: await self._store.find_key_by_digest(secret_digest)}

        found = (await self._cache.read([name], load))[name]
        return found if isinstance(found, ApiKeyRecord) else None

    async def access_token_facts(self, jti: str, username: str, family_id: str) -> AccessTokenFacts:
        revoked, user, family = names = (
            jti_entry(jti),
            user_entry(username),
            family_entry(family_id),
        )

        async def load() -> Mapping[str, Fact | None]:
            facts = await self._store.access_token_facts(jti, username, family_id)
            return {revoked: facts.revoked, user: facts.user, family: facts.family}

        found = await self._cache.read(names, load)
        return AccessTokenFacts(
            revoked=found[revoked] is not False,
            user=_as(found[user], UserRecord),
            family=_as(found[family], FamilyRecord),
        )


def _as(fact: Fact | None, kind: type[T]) -> T | None:
    return fact if isinstance(fact, kind) else None
