"""Everything the HTTP layer needs from ``auth``, wired once per process.

Built from plain values, not from the application's settings, so ``auth``
stays importable (and testable) on its own; the application builds one in
its lifespan, ``start()``s its background work there and keeps it in
``app.services.Services.auth``. A context never started (a command-line tool)
works the same, writing key uses when it closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from auth.api_keys import ApiKeyDigester
from auth.audit import AuditLog
from auth.cache import DEFAULT_STALE_SECONDS, CredentialCache
from auth.clock import Clock, utc_now
from auth.key_service import KeyService
from auth.key_usage import DEFAULT_FLUSH_SECONDS, KeyUsage
from auth.lookups import CredentialLookups
from auth.password_policy import DEFAULT_MIN_LENGTH
from auth.passwords import PasswordHasher
from auth.refresh import DEFAULT_FAMILY_MAX_SECONDS, RefreshTokenFamilies
from auth.resolver import PrincipalResolver
from auth.store import STORE_UNAVAILABLE
from auth.store.base import CredentialStore
from auth.token_service import TokenService
from auth.tokens import AccessTokenCodec, SigningKey
from auth.user_service import UserService

logger = logging.getLogger(__name__)


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
        api_key_pepper: str | Sequence[tuple[str, str]],
        refresh_family_max_seconds: int = DEFAULT_FAMILY_MAX_SECONDS,
        password_hasher: PasswordHasher | None = None,
        password_min_length: int = DEFAULT_MIN_LENGTH,
        key_usage_flush_seconds: float = DEFAULT_FLUSH_SECONDS,
        cache_stale_seconds: float = DEFAULT_STALE_SECONDS,
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
        self.users = UserService(
            store, self.passwords, password_min_length=password_min_length, clock=clock
        )
        self.cache = CredentialCache(stale_seconds=cache_stale_seconds)
        lookups = CredentialLookups(store, self.cache)
        self.key_usage = KeyUsage(store, flush_seconds=key_usage_flush_seconds)
        self.keys = KeyService(
            store,
            ApiKeyDigester(api_key_pepper),
            usage=self.key_usage,
            lookups=lookups,
            clock=clock,
        )
        self.audit = AuditLog(store, clock=clock)
        self._tasks: list[asyncio.Task[None]] = []
        self.principals = PrincipalResolver(lookups, self.access_tokens, self.keys, clock=clock)

    def start(self) -> None:
        """Start this process's background work (once, in a running event loop).

        Following the store's changes is what lets the principal cache answer;
        a context never started asks the store on every check.
        """
        if self._tasks:
            raise RuntimeError("already started")
        self._tasks = [
            asyncio.create_task(self.store.follow_changes(self.cache), name="auth-changes"),
            asyncio.create_task(self.key_usage.run(), name="auth-key-usage"),
        ]
        for task in self._tasks:
            task.add_done_callback(_report_failure)

    async def close(self) -> None:
        """Stop the background work, write what it still holds, close the store."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        try:
            await self.key_usage.flush()
        except STORE_UNAVAILABLE as exc:
            logger.warning("last key uses not recorded (store unavailable): %s", exc)
        await self.store.close()


def _report_failure(task: asyncio.Task[None]) -> None:
    """A background loop that ended by itself is a bug: say so (the cache stops answering)."""
    if not task.cancelled() and task.exception() is not None:
        logger.error("%s stopped", task.get_name(), exc_info=task.exception())
