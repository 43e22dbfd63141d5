"""Refresh-token families and access-token revocations in SQLite.

Rows that can no longer matter (expired refresh tokens and families, revoked
jtis past their expiry) are pruned by the writes that add new ones.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from auth.store.base import (
    AccessTokenFacts,
    AlreadyExists,
    FamilyRecord,
    RefreshTokenRecord,
    SpendOutcome,
    SpendResult,
    UnknownUser,
)
from auth.store.changes import family_entry, jti_entry
from auth.store.encoding import (
    from_micros,
    join_scopes,
    refresh_record,
    to_micros,
)
from auth.store.sqlite.base import Changed, now_micros, user_exists
from auth.store.sqlite.users import SELECT_USERS, SqliteUsers, user_record

_REVOKE_FAMILY = "UPDATE refresh_families SET revoked = 1 WHERE family_id = ?"


class SqliteTokens(SqliteUsers):
    async def add_refresh_token(self, token: RefreshTokenRecord) -> None:
        def work(c: sqlite3.Connection) -> tuple[None, Changed]:
            if not user_exists(c, token.user_id):
                raise UnknownUser(token.user_id)
            now = now_micros()
            c.execute("DELETE FROM refresh_tokens WHERE expires_at <= ?", (now,))
            c.execute("DELETE FROM refresh_families WHERE expires_at <= ?", (now,))
            expires_at = to_micros(token.expires_at)
            existed = c.execute(
                "SELECT 1 FROM refresh_families WHERE family_id = ?", (token.family_id,)
            ).fetchone()
            family = c.execute(
                "INSERT INTO refresh_families (family_id, user_id, revoked, expires_at, ends_at) "
                "VALUES (?, ?, 0, ?, ?) ON CONFLICT (family_id) "
                "DO UPDATE SET expires_at = max(expires_at, excluded.expires_at) "
                "WHERE user_id = excluded.user_id",
                (token.family_id, token.user_id, expires_at, to_micros(token.family_ends_at)),
            )
            if family.rowcount != 1:  # the family belongs to another user
                raise AlreadyExists(token.family_id)
            try:
                c.execute(
                    "INSERT INTO refresh_tokens "
                    "(digest, family_id, user_id, username, scopes, expires_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        token.digest,
                        token.family_id,
                        token.user_id,
                        token.username,
                        join_scopes(token.scopes),
                        expires_at,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(token.family_id) from exc
            # A family already known (and cached) may now last longer.
            return None, [family_entry(token.family_id)] if existed else []

        await self._change(work)

    async def spend_refresh_token(self, digest: str, now: datetime) -> SpendResult:
        def work(c: sqlite3.Connection) -> tuple[SpendResult, Changed]:
            row = c.execute(
                "SELECT t.family_id, t.user_id, t.username, t.scopes, t.expires_at, t.spent_at, "
                "f.revoked, f.ends_at "
                "FROM refresh_tokens AS t JOIN refresh_families AS f USING (family_id) "
                "WHERE t.digest = ?",
                (digest,),
            ).fetchone()
            if row is None:
                return SpendResult(SpendOutcome.INVALID), []
            family_id, user_id, username, scopes, expires_at, spent_at, revoked, ends_at = row
            if revoked or min(expires_at, ends_at) <= to_micros(now):
                return SpendResult(SpendOutcome.INVALID), []
            if not user_exists(c, user_id):
                c.execute(_REVOKE_FAMILY, (family_id,))
                return SpendResult(SpendOutcome.INVALID), [family_entry(family_id)]
            record = refresh_record(
                digest, family_id, user_id, username, scopes, expires_at, ends_at
            )
            if spent_at is not None:
                c.execute(_REVOKE_FAMILY, (family_id,))
                return SpendResult(SpendOutcome.REUSED, record), [family_entry(family_id)]
            c.execute(
                "UPDATE refresh_tokens SET spent_at = ? WHERE digest = ?", (to_micros(now), digest)
            )
            return SpendResult(SpendOutcome.SPENT, record), []

        return await self._change(work)

    async def revoke_refresh_family(self, family_id: str) -> None:
        def work(c: sqlite3.Connection) -> tuple[None, Changed]:
            c.execute(_REVOKE_FAMILY, (family_id,))
            return None, [family_entry(family_id)]

        await self._change(work)

    async def revoke_access_token(self, jti: str, expires_at: datetime) -> None:
        def work(c: sqlite3.Connection) -> tuple[None, Changed]:
            c.execute("DELETE FROM revoked_access_tokens WHERE expires_at <= ?", (now_micros(),))
            c.execute(
                "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?) "
                "ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
                (jti, to_micros(expires_at)),
            )
            return None, [jti_entry(jti)]

        await self._change(work)

    async def access_token_facts(self, jti: str, username: str, family_id: str) -> AccessTokenFacts:
        def work(c: sqlite3.Connection) -> AccessTokenFacts:
            revoked = c.execute(
                "SELECT 1 FROM revoked_access_tokens WHERE jti = ?", (jti,)
            ).fetchone()
            user = c.execute(SELECT_USERS + " WHERE username = ?", (username,)).fetchone()
            family = c.execute(
                "SELECT family_id, user_id, revoked, expires_at, ends_at FROM refresh_families "
                "WHERE family_id = ?",
                (family_id,),
            ).fetchone()
            return AccessTokenFacts(
                revoked=revoked is not None,
                user=None if user is None else user_record(user),
                family=None if family is None else _family(family),
            )

        return await self._db.read(work)


def _family(row: tuple[str, str, int, int, int]) -> FamilyRecord:
    family_id, user_id, revoked, expires_at, ends_at = row
    return FamilyRecord(
        family_id, user_id, bool(revoked), from_micros(expires_at), from_micros(ends_at)
    )
