"""The OAuth2 token endpoint's logic (RFC 6749 password and refresh grants, RFC 7009 revocation).

Independent of HTTP: callers pass form values and get a ``TokenGrant`` back,
or an ``OAuthError`` whose ``error`` code is the RFC's. A wrong password and
an unknown username raise the same error after the same amount of work, so
the answer never says whether a username exists.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from auth.clock import Clock, utc_now
from auth.errors import InvalidGrant, InvalidRequest, InvalidScope, UnsupportedGrantType
from auth.passwords import PasswordHasher
from auth.refresh import RefreshTokenFamilies
from auth.store.base import (
    CredentialStore,
    RefreshTokenRecord,
    SpendOutcome,
    UnknownUser,
    UserRecord,
)
from auth.tokens import AccessTokenCodec, InvalidToken, format_scopes, parse_scopes
from auth.validation import MAX_USERNAME_LENGTH, canonical_username

logger = logging.getLogger(__name__)

BAD_CREDENTIALS = "invalid username or password"
REFRESH_REFUSED = "invalid, expired or revoked refresh token"
MAX_TOKEN_LENGTH = 4096
REFRESH_HINT = "refresh_token"


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """The RFC 6749 §5.1 success body, field for field."""

    access_token: str
    expires_in: int
    refresh_token: str
    scope: str
    token_type: str = "bearer"  # noqa: S105 (the RFC 6750 scheme name)


class TokenService:
    def __init__(
        self,
        store: CredentialStore,
        passwords: PasswordHasher,
        access_tokens: AccessTokenCodec,
        refresh_tokens: RefreshTokenFamilies,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._access = access_tokens
        self._refresh = refresh_tokens
        self._clock = clock

    async def grant(
        self,
        grant_type: str | None,
        *,
        username: str | None = None,
        password: str | None = None,
        scope: str | None = None,
        refresh_token: str | None = None,
    ) -> TokenGrant:
        """Dispatch one token request on its ``grant_type``."""
        if grant_type == "password":
            if not username or password is None:
                raise InvalidRequest("username and password are required")
            return await self.password_grant(username, password, scope)
        if grant_type == "refresh_token":
            if not refresh_token:
                raise InvalidRequest("refresh_token is required")
            return await self.refresh_grant(refresh_token)
        if not grant_type:
            raise InvalidRequest("grant_type is required")
        raise UnsupportedGrantType(f"grant_type {grant_type!r} is not supported")

    async def password_grant(
        self, username: str, password: str, scope: str | None = None
    ) -> TokenGrant:
        name = canonical_username(username)
        user = await self._store.get_user(name) if len(name) <= MAX_USERNAME_LENGTH else None
        if user is None:
            await asyncio.to_thread(self._passwords.dummy_verify, password)
            raise InvalidGrant(BAD_CREDENTIALS)
        verified = await asyncio.to_thread(
            self._passwords.verify_password, password, user.password_hash
        )
        if not verified:
            raise InvalidGrant(BAD_CREDENTIALS)
        requested = parse_scopes(scope) or user.scopes
        if not requested <= user.scopes:
            raise InvalidScope("the requested scope exceeds what this user may have")
        try:
            return await self._issue(user, requested, None)
        except UnknownUser:  # deleted (or re-created) while the password was checked
            raise InvalidGrant(BAD_CREDENTIALS) from None

    async def refresh_grant(self, refresh_token: str) -> TokenGrant:
        if len(refresh_token) > MAX_TOKEN_LENGTH:
            raise InvalidGrant(REFRESH_REFUSED)
        spent = await self._refresh.spend(refresh_token, self._clock())
        if spent.outcome is SpendOutcome.REUSED and spent.record is not None:
            logger.warning(
                "refresh token reused; family revoked",
                extra={
                    "fields": {
                        "username": spent.record.username,
                        "family_id": spent.record.family_id,
                    }
                },
            )
        if spent.outcome is not SpendOutcome.SPENT or spent.record is None:
            raise InvalidGrant(REFRESH_REFUSED)
        record = spent.record
        user = await self._store.get_user(record.username)
        if user is None or user.user_id != record.user_id:
            await self._refresh.revoke_family(record.family_id)
            raise InvalidGrant(REFRESH_REFUSED)
        try:
            # Never more than the user holds now, whatever the family was granted.
            return await self._issue(user, record.scopes & user.scopes, record)
        except UnknownUser:  # deleted since the spend: the successor was refused
            raise InvalidGrant(REFRESH_REFUSED) from None

    async def revoke(self, token: str, token_type_hint: str | None = None) -> None:
        """RFC 7009: make ``token`` useless; an unknown or malformed token is not an error."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return
        attempts = (self._revoke_access_token, self._revoke_refresh_token)
        if token_type_hint == REFRESH_HINT:
            attempts = attempts[::-1]
        for attempt in attempts:
            if await attempt(token):
                return

    async def _issue(
        self, user: UserRecord, scopes: frozenset[str], spent: RefreshTokenRecord | None
    ) -> TokenGrant:
        """A refresh token (a new family, or ``spent``'s successor) and an access token.

        The refresh token is stored first: the store refuses it (``UnknownUser``)
        when this instance of the user no longer exists, and then no token at
        all leaves this method.
        """
        now = self._clock()
        if spent is None:
            refresh = await self._refresh.start(user, scopes, now)
        else:
            refresh = await self._refresh.continue_family(spent, scopes, now)
        access = self._access.issue(
            user.username,
            scopes,
            now=now,
            user_id=user.user_id,
            family_id=refresh.record.family_id,
        )
        return TokenGrant(
            access_token=access.token,
            expires_in=access.expires_in,
            refresh_token=refresh.token,
            scope=format_scopes(scopes),
        )

    async def _revoke_access_token(self, token: str) -> bool:
        try:
            claims = self._access.decode(token)
        except InvalidToken:
            return False
        await self._store.revoke_access_token(claims.token_id, self._access.accepted_until(claims))
        return True

    async def _revoke_refresh_token(self, token: str) -> bool:
        spent = await self._refresh.spend(token, self._clock())
        if spent.outcome is SpendOutcome.SPENT and spent.record is not None:
            await self._refresh.revoke_family(spent.record.family_id)
        return spent.outcome is not SpendOutcome.INVALID
