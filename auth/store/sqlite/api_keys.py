"""API keys in SQLite: one row per key, its secret only as a digest (unique)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from auth.store.base import AlreadyExists, ApiKeyRecord, UnknownUser
from auth.store.changes import key_entry
from auth.store.encoding import (
    from_micros,
    join_scopes,
    optional_datetime,
    optional_micros,
    split_scopes,
    to_micros,
)
from auth.store.sqlite.base import Changed, SqliteStoreBase, user_exists

_SELECT_KEYS = (
    "SELECT id, name, prefix, secret_digest, scopes, rate_limit, "
    "created_at, expires_at, last_used_at, revoked_at, created_by, owner_id FROM api_keys"
)
_SELECT_KEY_BY_ID = _SELECT_KEYS + " WHERE id = ?"
_SELECT_KEY_BY_DIGEST = _SELECT_KEYS + " WHERE secret_digest = ?"
_INSERT_KEY = (
    "INSERT INTO api_keys (id, name, prefix, secret_digest, scopes, rate_limit, "
    "created_at, expires_at, last_used_at, revoked_at, created_by, owner_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


class SqliteApiKeys(SqliteStoreBase):
    async def create_key(self, key: ApiKeyRecord) -> None:
        def work(c: sqlite3.Connection) -> None:
            if key.owner_id is not None and not user_exists(c, key.owner_id):
                raise UnknownUser(key.owner_id)
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
                        key.owner_id,
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
        def work(c: sqlite3.Connection) -> tuple[bool, Changed]:
            row = c.execute(
                "SELECT secret_digest FROM api_keys WHERE id = ? AND revoked_at IS NULL", (key_id,)
            ).fetchone()
            if row is None:
                return False, []
            c.execute("UPDATE api_keys SET revoked_at = ? WHERE id = ?", (to_micros(at), key_id))
            return True, [key_entry(row[0])]

        return await self._change(work)

    async def rotate_key(
        self, key_id: str, new_prefix: str, new_secret_digest: str
    ) -> ApiKeyRecord | None:
        """Refuses (``None``) a revoked key: revocation is final."""

        def work(c: sqlite3.Connection) -> tuple[ApiKeyRecord | None, Changed]:
            old = _select_key(c, _SELECT_KEY_BY_ID, key_id)
            if old is None or old.revoked_at is not None:
                return None, []
            try:
                c.execute(
                    "UPDATE api_keys SET prefix = ?, secret_digest = ? WHERE id = ?",
                    (new_prefix, new_secret_digest, key_id),
                )
            except sqlite3.IntegrityError as exc:
                raise AlreadyExists(key_id) from exc
            return _select_key(c, _SELECT_KEY_BY_ID, key_id), [key_entry(old.secret_digest)]

        return await self._change(work)

    async def update_key(
        self, key_id: str, *, name: str | None = None, rate_limit: str | None = None
    ) -> ApiKeyRecord | None:
        def work(c: sqlite3.Connection) -> tuple[ApiKeyRecord | None, Changed]:
            c.execute(
                "UPDATE api_keys SET name = coalesce(?, name), "
                "rate_limit = coalesce(?, rate_limit) WHERE id = ?",
                (name, rate_limit, key_id),
            )
            record = _select_key(c, _SELECT_KEY_BY_ID, key_id)
            return record, [] if record is None else [key_entry(record.secret_digest)]

        return await self._change(work)

    async def touch_keys(self, uses: Mapping[str, datetime]) -> None:
        if uses:
            await self._db.write(
                lambda c: c.executemany(
                    "UPDATE api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) "
                    "WHERE id = ?",
                    [(to_micros(at), key_id) for key_id, at in uses.items()],
                )
            )


def _select_key(c: sqlite3.Connection, query: str, value: str) -> ApiKeyRecord | None:
    row = c.execute(query, (value,)).fetchone()
    return None if row is None else _key(row)


def _key(row: tuple[Any, ...]) -> ApiKeyRecord:
    (
        key_id,
        name,
        prefix,
        digest,
        scopes,
        rate_limit,
        created,
        expires,
        used,
        revoked,
        by,
        owner,
    ) = row
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
        owner_id=owner,
    )
