"""Users: create, look up, list, delete. Passwords are hashed off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from auth import validation
from auth.clock import Clock, utc_now
from auth.passwords import PasswordHasher
from auth.store.base import CredentialStore, UserRecord, new_user_id


class UserService:
    def __init__(
        self, store: CredentialStore, passwords: PasswordHasher, *, clock: Clock = utc_now
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._clock = clock

    async def create(self, username: str, password: str, scopes: Iterable[str]) -> UserRecord:
        """Raise ``InvalidInput`` for a bad value, ``AlreadyExists`` when the name is taken."""
        name = validation.username(username)
        user = UserRecord(
            username=name,
            password_hash=await self._hash_new_password(password),
            scopes=validation.known_scopes(scopes),
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
        return await self._store.set_user_scopes(username, validation.known_scopes(scopes))

    async def set_password(
        self, username: str, password: str, *, keep_family: str | None = None
    ) -> UserRecord | None:
        """A new password; every login of the user ends (its refresh and access tokens)
        except ``keep_family``, the caller's own (the ``sid`` of its access token).

        ``None`` when unknown; ``InvalidInput`` for a password the policy refuses.
        """
        password_hash = await self._hash_new_password(password)
        return await self._store.set_user_password(username, password_hash, keep_family)

    async def delete(self, username: str) -> bool:
        """Their refresh families and the keys they own are revoked with them, at once.

        A user created later under the same name is another instance (another
        ``user_id``): nothing issued to this one ever works for it.
        """
        return await self._store.delete_user(username, self._clock())

    async def _hash_new_password(self, password: str) -> str:
        """The one policy check for a password being set (``InvalidInput``), then its hash."""
        return await asyncio.to_thread(self._passwords.hash_password, validation.password(password))
