"""Users in SQLite.

Deleting a user ends its refresh families and the API keys it owns in the same
transaction.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from auth.principal import SCOPE_ADMIN
from auth.store.base import AlreadyExists, LastAdmin, UserRecord
from auth.store.changes import family_entry, key_entry, user_entry
from auth.store.encoding import from_micros, join_scopes, split_scopes, to_micros
from auth.store.sqlite.base import Changed, SqliteStoreBase

SELECT_USERS = "SELECT username, password_hash, scopes, created_at, user_id FROM users"


class SqliteUsers(SqliteStoreBase):
    async def create_user(self, user: UserRecord) -> None:
        def work(c: sqlite3.Connection) -> None:
            try:
                c.execute(
                    "INSERT INTO users (username, password_hash, scopes, created_at, user_id) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        user.username,
                        user.password_hash,
                        join_scopes(user.scopes),
                        to_micros(user.created_at),
                        user.user_id,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(user.username) from exc

        await self._db.write(work)

    async def get_user(self, username: str) -> UserRecord | None:
        return await self._db.read(lambda c: _select_user(c, username))

    async def list_users(self) -> list[UserRecord]:
        rows = await self._db.read(
            lambda c: c.execute(SELECT_USERS + " ORDER BY username").fetchall()
        )
        return [user_record(row) for row in rows]

    async def count_users(self) -> int:
        return await self._db.read(lambda c: c.execute("SELECT count(*) FROM users").fetchone()[0])

    async def set_user_scopes(self, username: str, scopes: frozenset[str]) -> UserRecord | None:
        def work(c: sqlite3.Connection) -> tuple[UserRecord | None, Changed]:
            current = _select_user(c, username)
            if current is not None and SCOPE_ADMIN not in scopes:
                _refuse_last_admin(c, current)
            c.execute(
                "UPDATE users SET scopes = ? WHERE username = ?", (join_scopes(scopes), username)
            )
            return _select_user(c, username), [user_entry(username)]

        return await self._change(work)

    async def set_user_password(
        self, username: str, password_hash: str, keep_family: str | None = None
    ) -> UserRecord | None:
        def work(c: sqlite3.Connection) -> tuple[UserRecord | None, Changed]:
            c.execute(
                "UPDATE users SET password_hash = ? WHERE username = ?", (password_hash, username)
            )
            user = _select_user(c, username)
            if user is None:
                return None, []
            ended = c.execute(
                "SELECT family_id FROM refresh_families "
                "WHERE user_id = ? AND family_id IS NOT ? AND revoked = 0",
                (user.user_id, keep_family),
            ).fetchall()
            c.executemany("UPDATE refresh_families SET revoked = 1 WHERE family_id = ?", ended)
            return user, [user_entry(username), *(family_entry(f) for (f,) in ended)]

        return await self._change(work)

    async def delete_user(self, username: str, at: datetime) -> bool:
        def work(c: sqlite3.Connection) -> tuple[bool, Changed]:
            found = c.execute("SELECT user_id FROM users WHERE username = ?", (username,))
            row = found.fetchone()
            if row is None:
                return False, []
            (user_id,) = row
            user = _select_user(c, username)
            if user is not None:
                _refuse_last_admin(c, user)
            families = c.execute(
                "SELECT family_id FROM refresh_families WHERE user_id = ?", (user_id,)
            ).fetchall()
            keys = c.execute(
                "SELECT secret_digest FROM api_keys WHERE owner_id = ? AND revoked_at IS NULL",
                (user_id,),
            ).fetchall()
            c.execute("DELETE FROM users WHERE username = ?", (username,))
            c.execute("UPDATE refresh_families SET revoked = 1 WHERE user_id = ?", (user_id,))
            c.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE owner_id = ? AND revoked_at IS NULL",
                (to_micros(at), user_id),
            )
            return True, [
                user_entry(username),
                *(family_entry(family_id) for (family_id,) in families),
                *(key_entry(digest) for (digest,) in keys),
            ]

        return await self._change(work)


def user_record(row: tuple[str, str, str, int, str]) -> UserRecord:
    username, password_hash, scopes, created_at, user_id = row
    return UserRecord(
        username, password_hash, split_scopes(scopes), from_micros(created_at), user_id
    )


def _refuse_last_admin(c: sqlite3.Connection, user: UserRecord) -> None:
    """Raise ``LastAdmin`` if ``user`` is the only admin (inside the write's transaction)."""
    if SCOPE_ADMIN not in user.scopes:
        return
    others = c.execute("SELECT scopes FROM users WHERE username != ?", (user.username,))
    if not any(SCOPE_ADMIN in split_scopes(scopes) for (scopes,) in others):
        raise LastAdmin(user.username)


def _select_user(c: sqlite3.Connection, username: str) -> UserRecord | None:
    row = c.execute(SELECT_USERS + " WHERE username = ?", (username,)).fetchone()
    return None if row is None else user_record(row)
