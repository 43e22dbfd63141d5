"""Users: create, look up, list, delete. Passwords are hashed off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from auth import validation
from auth.clock import Clock, utc_now
from auth.errors import WrongPassword
from auth.password_policy import DEFAULT_MIN_LENGTH, check_new_password
from auth.passwords import PasswordHasher
from auth.store.base import CredentialStore, UserRecord, new_user_id


class UserService:
    def __init__(
        self,
        store: CredentialStore,
        passwords: PasswordHasher,
        *,
        password_min_length: int = DEFAULT_MIN_LENGTH,
        clock: Clock = utc_now,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._password_min_length = password_min_length
        self._clock = clock

    async def create(
        self,
        username: str,
        password: str,
        scopes: Iterable[str],
        *,
        granter_scopes: frozenset[str] | None = None,
    ) -> UserRecord:
        """Raise ``InvalidInput`` for a bad value, ``AlreadyExists`` when the name is taken,
        ``ScopeCeiling`` when the granter (``None``: the operator, from the shell) would
        hand out a scope it does not hold itself."""
        name = validation.username(username)
        wanted = validation.known_scopes(scopes)
        validation.within_ceiling(wanted, granter_scopes)
        accepted = check_new_password(password, min_length=self._password_min_length, username=name)
        user = UserRecord(
            username=name,
            password_hash=await asyncio.to_thread(self._passwords.hash_password, accepted),
            scopes=wanted,
            created_at=self._clock(),
            user_id=new_user_id(),
        )
        await self._store.create_user(user)
        return user

    async def get(self, username: str) -> UserRecord | None:
        return await self._store.get_user(username)

    async def list(self) -> list[UserRecord]:
        return await self._store.list_users()

    async def count(self) -> int:
        return await self._store.count_users()

    async def set_scopes(self, username: str, scopes: Iterable[str]) -> UserRecord | None:
        """What the user may do from now on; their live tokens shrink with it at once.

        ``None`` when unknown; ``InvalidInput`` for an unknown scope.
        """
        return await self._store.set_user_scopes(
            validation.canonical_username(username), validation.known_scopes(scopes)
        )

    async def set_password(
        self, username: str, password: str, *, keep_family: str | None = None
    ) -> UserRecord | None:
        """A new password; every login of the user ends (its refresh and access tokens)
        except ``keep_family``, the caller's own (the ``sid`` of its access token).

        ``None`` when unknown; ``InvalidInput`` for a password the policy refuses.
        """
        name = validation.canonical_username(username)
        accepted = check_new_password(password, min_length=self._password_min_length, username=name)
        password_hash = await asyncio.to_thread(self._passwords.hash_password, accepted)
        return await self._store.set_user_password(name, password_hash, keep_family)

    async def change_own_password(
        self, username: str, current: str, new: str, *, keep_family: str | None
    ) -> None:
        """The user's own change: the current password first (``WrongPassword``), then
        ``set_password`` keeping the caller's login. Verifying costs the same whether
        or not the user exists."""
        name = validation.canonical_username(username)
        user = await self._store.get_user(name)
        if user is None:
            await asyncio.to_thread(self._passwords.dummy_verify, current)
            raise WrongPassword(name)
        if not await asyncio.to_thread(
            self._passwords.verify_password, current, user.password_hash
        ):
            raise WrongPassword(name)
        if await self.set_password(name, new, keep_family=keep_family) is None:
            raise WrongPassword(name)  # deleted meanwhile

    async def delete(self, username: str) -> bool:
        """Their refresh families and the keys they own are revoked with them, at once.

        A user created later under the same name is another instance (another
        ``user_id``): nothing issued to this one ever works for it.
        """
        return await self._store.delete_user(username, self._clock())
