"""Turns a presented credential into a ``Principal``, or into nothing.

Every check reads through the principal cache (``lookups``): on a hit it
costs no store round trip, and a revocation (of a jti, a refresh family, a
user, a key) drops the entries it touches on every worker as soon as the
change reaches it (within milliseconds; 100 ms is tested). An access token
works only while its user instance exists and its refresh family (its login
session, claim ``sid``) is live: logging out, a detected refresh-token reuse,
or the family's end take its access tokens with it (RFC 7009 §2.1).
"""

from __future__ import annotations

from auth.clock import Clock, utc_now
from auth.key_service import KeyService
from auth.lookups import CredentialLookups
from auth.principal import Principal
from auth.tokens import AccessTokenCodec, InvalidToken


class PrincipalResolver:
    def __init__(
        self,
        lookups: CredentialLookups,
        access_tokens: AccessTokenCodec,
        keys: KeyService,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._lookups = lookups
        self._access = access_tokens
        self._keys = keys
        self._clock = clock

    async def from_access_token(self, token: str) -> Principal | None:
        try:
            claims = self._access.decode(token)
        except InvalidToken:
            return None
        if claims.user_id is None or claims.family_id is None:
            return None
        facts = await self._lookups.access_token_facts(
            claims.token_id, claims.subject, claims.family_id
        )
        user, family = facts.user, facts.family
        # The instance, not the name: a re-created user is somebody else.
        if facts.revoked or user is None or user.user_id != claims.user_id:
            return None
        if family is None or family.user_id != user.user_id or not family.is_live(self._clock()):
            return None
        return Principal(
            subject=claims.subject,
            kind="user",
            # A token never grants more than its user holds now (the cached user is
            # dropped whenever the user changes).
            scopes=claims.scopes & user.scopes,
            token_id=claims.token_id,
            family_id=claims.family_id,
            user_id=user.user_id,
        )

    async def from_api_key(self, secret: str) -> Principal | None:
        record = await self._keys.check(secret)
        if record is None:
            return None
        return Principal(
            subject=record.id,
            kind="key",
            scopes=record.scopes,
            rate_limit=record.rate_limit,
            user_id=record.owner_id,
        )
