"""The embedded credential store: one SQLite file in WAL mode.

Good for one host. Every call runs on the store's own thread (see
``SqliteThread``); every write is one transaction. Rows that can no longer
matter (expired refresh tokens and families, revoked jtis past their expiry)
are pruned opportunistically by the writes that add new ones.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from auth.store.base import (
    AlreadyExists,
    ApiKeyRecord,
    AuditEvent,
    RefreshTokenRecord,
    SpendOutcome,
    SpendResult,
    UserRecord,
)
from auth.store.encoding import (
    from_micros,
    join_scopes,
    optional_datetime,
    optional_micros,
    split_scopes,
    to_micros,
    token_second,
)
from auth.store.sqlite_thread import SqliteThread

_SELECT_KEYS = (
    "SELECT id, name, prefix, secret_digest, scopes, rate_limit, "
    "created_at, expires_at, last_used_at, revoked_at, created_by FROM api_keys"
)
_SELECT_KEY_BY_ID = _SELECT_KEYS + " WHERE id = ?"
_SELECT_KEY_BY_DIGEST = _SELECT_KEYS + " WHERE secret_digest = ?"
_INSERT_KEY = (
    "INSERT INTO api_keys (id, name, prefix, secret_digest, scopes, rate_limit, "
    "created_at, expires_at, last_used_at, revoked_at, created_by) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _now_micros() -> int:
    return time.time_ns() // 1_000


class SqliteCredentialStore:
    def __init__(self, path: Path | str, *, busy_timeout_ms: int = 5_000) -> None:
        self._db = SqliteThread(Path(path), busy_timeout_ms=busy_timeout_ms)

    async def ping(self) -> bool:
        return await self._db.read(lambda c: c.execute("SELECT 1").fetchone() == (1,))

    async def close(self) -> None:
        await self._db.close()

    # users

    async def create_user(self, user: UserRecord) -> None:
        def work(c: sqlite3.Connection) -> None:
            try:
                c.execute(
                    "INSERT INTO users (username, password_hash, scopes, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    (
                        user.username,
                        user.password_hash,
                        join_scopes(user.scopes),
                        to_micros(user.created_at),
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(user.username) from exc

        await self._db.write(work)

    async def get_user(self, username: str) -> UserRecord | None:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT username, password_hash, scopes, created_at FROM users WHERE username = ?",
                (username,),
            ).fetchone()
        )
        return None if row is None else _user(row)

    async def list_users(self) -> list[UserRecord]:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT username, password_hash, scopes, created_at FROM users ORDER BY username"
            ).fetchall()
        )
        return [_user(row) for row in rows]

    async def count_users(self) -> int:
        return await self._db.read(lambda c: c.execute("SELECT count(*) FROM users").fetchone()[0])

    async def delete_user(self, username: str) -> bool:
        def work(c: sqlite3.Connection) -> bool:
            if c.execute("DELETE FROM users WHERE username = ?", (username,)).rowcount == 0:
                return False
            c.execute("UPDATE refresh_families SET revoked = 1 WHERE username = ?", (username,))
            return True

        return await self._db.write(work)

    # API keys

    async def create_key(self, key: ApiKeyRecord) -> None:
        def work(c: sqlite3.Connection) -> None:
            try:
                c.execute(
                    _INSERT_KEY,
                    (
                        key.id,
                        key.name,
                        key.prefix,
                        key.secret_digest,
                        join_scopes(key.scopes),
                        key.rate_limit,
                        to_micros(key.created_at),
                        optional_micros(key.expires_at),
                        optional_micros(key.last_used_at),
                        optional_micros(key.revoked_at),
                        key.created_by,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(key.id) from exc

        await self._db.write(work)

    async def get_key(self, key_id: str) -> ApiKeyRecord | None:
        return await self._db.read(lambda c: _select_key(c, _SELECT_KEY_BY_ID, key_id))

    async def find_key_by_digest(self, secret_digest: str) -> ApiKeyRecord | None:
        return await self._db.read(lambda c: _select_key(c, _SELECT_KEY_BY_DIGEST, secret_digest))

    async def list_keys(self) -> list[ApiKeyRecord]:
        rows = await self._db.read(
            lambda c: c.execute(_SELECT_KEYS + " ORDER BY created_at, id").fetchall()
        )
        return [_key(row) for row in rows]

    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        return await self._db.write(
            lambda c: (
                c.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    (to_micros(at), key_id),
                ).rowcount
                == 1
            )
        )

    async def rotate_key(
        self, key_id: str, new_prefix: str, new_secret_digest: str
    ) -> ApiKeyRecord | None:
        """Refuses (``None``) a revoked key: revocation is final."""

        def work(c: sqlite3.Connection) -> ApiKeyRecord | None:
            try:
                changed = c.execute(
                    "UPDATE api_keys SET prefix = ?, secret_digest = ? "
                    "WHERE id = ? AND revoked_at IS NULL",
                    (new_prefix, new_secret_digest, key_id),
                ).rowcount
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(key_id) from exc
            return _select_key(c, _SELECT_KEY_BY_ID, key_id) if changed else None

        return await self._db.write(work)

    async def touch_key(self, key_id: str, at: datetime) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE api_keys SET last_used_at = ? WHERE id = ?", (to_micros(at), key_id)
            )
        )

    # refresh-token families

    async def add_refresh_token(self, token: RefreshTokenRecord) -> None:
        def work(c: sqlite3.Connection) -> None:
            now = _now_micros()
            c.execute("DELETE FROM refresh_tokens WHERE expires_at <= ?", (now,))
            c.execute("DELETE FROM refresh_families WHERE expires_at <= ?", (now,))
            expires_at = to_micros(token.expires_at)
            c.execute(
                "INSERT INTO refresh_families (family_id, username, revoked, expires_at) "
                "VALUES (?, ?, 0, ?) ON CONFLICT (family_id) "
                "DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
                (token.family_id, token.username, expires_at),
            )
            try:
                c.execute(
                    "INSERT INTO refresh_tokens (digest, family_id, username, scopes, expires_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        token.digest,
                        token.family_id,
                        token.username,
                        join_scopes(token.scopes),
                        expires_at,
                    ),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(token.family_id) from exc

        await self._db.write(work)

    async def spend_refresh_token(self, digest: str, now: datetime) -> SpendResult:
        def work(c: sqlite3.Connection) -> SpendResult:
            row = c.execute(
                "SELECT t.family_id, t.username, t.scopes, t.expires_at, t.spent_at, f.revoked "
                "FROM refresh_tokens AS t JOIN refresh_families AS f USING (family_id) "
                "WHERE t.digest = ?",
                (digest,),
            ).fetchone()
            if row is None:
                return SpendResult(SpendOutcome.INVALID)
            family_id, username, scopes, expires_at, spent_at, revoked = row
            if revoked or expires_at <= to_micros(now):
                return SpendResult(SpendOutcome.INVALID)
            record = RefreshTokenRecord(
                digest=digest,
                family_id=family_id,
                username=username,
                scopes=split_scopes(scopes),
                expires_at=from_micros(expires_at),
            )
            if spent_at is not None:
                c.execute(
                    "UPDATE refresh_families SET revoked = 1 WHERE family_id = ?", (family_id,)
                )
                return SpendResult(SpendOutcome.REUSED, record)
            c.execute(
                "UPDATE refresh_tokens SET spent_at = ? WHERE digest = ?", (to_micros(now), digest)
            )
            return SpendResult(SpendOutcome.SPENT, record)

        return await self._db.write(work)

    async def revoke_refresh_family(self, family_id: str) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE refresh_families SET revoked = 1 WHERE family_id = ?", (family_id,)
            )
        )

    # access-token revocation

    async def revoke_access_token(self, jti: str, expires_at: datetime) -> None:
        def work(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM revoked_access_tokens WHERE expires_at <= ?", (_now_micros(),))
            c.execute(
                "INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?) "
                "ON CONFLICT (jti) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
                (jti, to_micros(expires_at)),
            )

        await self._db.write(work)

    async def access_token_is_live(self, jti: str, username: str, issued_at: datetime) -> bool:
        created_at, revoked = await self._db.read(
            lambda c: c.execute(
                "SELECT (SELECT created_at FROM users WHERE username = ?), "
                "EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?)",
                (username, jti),
            ).fetchone()
        )
        if created_at is None or revoked:
            return False
        return token_second(from_micros(created_at)) <= token_second(issued_at)

    # audit

    async def append_audit(self, event: AuditEvent) -> None:
        await self._db.write(
            lambda c: c.execute(
                "INSERT INTO audit_events (at, actor, action, target, client_ip) "
                "VALUES (?, ?, ?, ?, ?)",
                (to_micros(event.at), event.actor, event.action, event.target, event.client_ip),
            )
        )

    async def list_audit(self, limit: int) -> list[AuditEvent]:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT at, actor, action, target, client_ip FROM audit_events "
                "ORDER BY id DESC LIMIT ?",
                (max(limit, 0),),
            ).fetchall()
        )
        return [AuditEvent(from_micros(row[0]), *row[1:]) for row in rows]


def _user(row: tuple[str, str, str, int]) -> UserRecord:
    username, password_hash, scopes, created_at = row
    return UserRecord(username, password_hash, split_scopes(scopes), from_micros(created_at))


def _select_key(c: sqlite3.Connection, query: str, value: str) -> ApiKeyRecord | None:
    row = c.execute(query, (value,)).fetchone()
    return None if row is None else _key(row)


def _key(row: tuple[Any, ...]) -> ApiKeyRecord:
    (key_id, name, prefix, digest, scopes, rate_limit, created, expires, used, revoked, by) = row
    return ApiKeyRecord(
        id=key_id,
        name=name,
        prefix=prefix,
        secret_digest=digest,
        scopes=split_scopes(scopes),
        rate_limit=rate_limit,
        created_at=from_micros(created),
        expires_at=optional_datetime(expires),
        last_used_at=optional_datetime(used),
        revoked_at=optional_datetime(revoked),
        created_by=by,
    )
