"""Turns a presented credential into a ``Principal``, or into nothing.

Every check consults the store, so revocations (of a jti, a user, a key)
hold on every worker from the next request on.
"""

from __future__ import annotations

from auth.key_service import KeyService
from auth.principal import Principal
from auth.store.base import CredentialStore
from auth.tokens import AccessTokenCodec, InvalidToken


class PrincipalResolver:
    def __init__(
        self, store: CredentialStore, access_tokens: AccessTokenCodec, keys: KeyService
    ) -> None:
        self._store = store
        self._access = access_tokens
        self._keys = keys

    async def from_access_token(self, token: str) -> Principal | None:
        try:
            claims = self._access.decode(token)
        except InvalidToken:
            return None
        facts = await self._store.access_token_facts(claims.token_id, claims.subject)
        user = facts.user
        # The instance, not the name: a re-created user is somebody else.
        if facts.revoked or user is None or user.user_id != claims.user_id:
            return None
        return Principal(
            subject=claims.subject,
            kind="user",
            # A token never grants more than its user holds now.
            scopes=claims.scopes & user.scopes,
            token_id=claims.token_id,
            user_id=user.user_id,
        )

    async def from_api_key(self, secret: str) -> Principal | None:
        record = await self._keys.check(secret)
        if record is None:
            return None
        return Principal(
            subject=record.id, kind="key", scopes=record.scopes, rate_limit=record.rate_limit
        )
