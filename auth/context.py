"""Everything the HTTP layer needs from ``auth``, wired once per process.

Built from plain values, not from the application's settings, so ``auth``
stays importable (and testable) on its own; the application builds one in
its lifespan and keeps it at ``app.state.auth``.
"""

from __future__ import annotations

from collections.abc import Sequence

from auth.api_keys import ApiKeyDigester
from auth.audit import AuditLog
from auth.clock import Clock, utc_now
from auth.key_service import KeyService
from auth.passwords import PasswordHasher
from auth.refresh import DEFAULT_FAMILY_MAX_SECONDS, RefreshTokenFamilies
from auth.resolver import PrincipalResolver
from auth.store.base import CredentialStore
from auth.token_service import TokenService
from auth.tokens import AccessTokenCodec, SigningKey
from auth.user_service import UserService


class AuthContext:
    def __init__(
        self,
        store: CredentialStore,
        *,
        signing_keys: Sequence[SigningKey | tuple[str, str]],
        algorithm: str,
        issuer: str,
        audience: str,
        access_token_ttl_seconds: int,
        refresh_token_ttl_seconds: int,
        api_key_pepper: str,
        refresh_family_max_seconds: int = DEFAULT_FAMILY_MAX_SECONDS,
        password_hasher: PasswordHasher | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.store = store
        self.passwords = password_hasher or PasswordHasher()
        self.access_tokens = AccessTokenCodec(
            signing_keys,
            algorithm=algorithm,
            issuer=issuer,
            audience=audience,
            ttl_seconds=access_token_ttl_seconds,
        )
        refresh_tokens = RefreshTokenFamilies(
            store,
            ttl_seconds=refresh_token_ttl_seconds,
            family_max_seconds=refresh_family_max_seconds,
        )
        self.tokens = TokenService(
            store, self.passwords, self.access_tokens, refresh_tokens, clock=clock
        )
        self.users = UserService(store, self.passwords, clock=clock)
        self.keys = KeyService(store, ApiKeyDigester(api_key_pepper), clock=clock)
        self.audit = AuditLog(store, clock=clock)
        self.principals = PrincipalResolver(store, self.access_tokens, self.keys, clock=clock)

    async def close(self) -> None:
        await self.store.close()
