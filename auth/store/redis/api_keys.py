"""API keys in Redis: a hash per key, an index from secret digest to id, the set of ids."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from auth.store.base import AlreadyExists, ApiKeyRecord, UnknownUser
from auth.store.encoding import from_micros, join_scopes, optional_datetime, split_scopes, to_micros
from auth.store.redis.base import RedisStoreBase, mapping, pairs, text

CREATE_KEY = """
-- KEYS: key hash, digest index, set of key ids[, owner's user-id index, owner's keys].
-- ARGV: id, then field/value pairs. Returns 1 created, 0 id or digest taken, -1 owner gone.
if #KEYS == 5 and redis.call('EXISTS', KEYS[4]) == 0 then return -1 end
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
if #KEYS == 5 then redis.call('SADD', KEYS[5], ARGV[1]) end
return 1
"""

FIND_KEY_BY_DIGEST = """
-- KEYS: digest index. ARGV: key hash prefix
local key_id = redis.call('GET', KEYS[1])
if not key_id then return {} end
return redis.call('HGETALL', ARGV[1] .. key_id)
"""

REVOKE_KEY = """
-- KEYS: key hash. ARGV: revoked_at_us, channel
if redis.call('EXISTS', KEYS[1]) == 0 then return changes(0) end
if redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return changes(0) end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1])
table.insert(changed, 'key:' .. redis.call('HGET', KEYS[1], 'secret_digest'))
return changes(1)
"""

ROTATE_KEY = """
-- KEYS: key hash, new digest index. ARGV: id, new prefix, new digest, digest index prefix,
-- channel. Returns {0} unknown or revoked, {-1} digest taken, {1, fields...} rotated.
if redis.call('EXISTS', KEYS[1]) == 0 then return changes({0}) end
if redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return changes({0}) end
if redis.call('EXISTS', KEYS[2]) == 1 then return changes({-1}) end
local old = redis.call('HGET', KEYS[1], 'secret_digest')
redis.call('DEL', ARGV[4] .. old)
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'prefix', ARGV[2], 'secret_digest', ARGV[3])
table.insert(changed, 'key:' .. old)
local result = {1}
for _, item in ipairs(redis.call('HGETALL', KEYS[1])) do table.insert(result, item) end
return changes(result)
"""

UPDATE_KEY = """
-- KEYS: key hash. ARGV: field/value pairs, channel. Returns the hash, flat ({} if unknown).
if redis.call('EXISTS', KEYS[1]) == 0 then return changes({}) end
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 1, #ARGV - 1)) end
table.insert(changed, 'key:' .. redis.call('HGET', KEYS[1], 'secret_digest'))
return changes(redis.call('HGETALL', KEYS[1]))
"""

TOUCH_KEYS = """
-- KEYS: key hashes. ARGV: last_used_at_us for each, in the same order
for i, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then
    local used = tonumber(redis.call('HGET', key, 'last_used_at') or '0')
    if used < tonumber(ARGV[i]) then redis.call('HSET', key, 'last_used_at', ARGV[i]) end
  end
end
return 1
"""


class RedisApiKeys(RedisStoreBase):
    async def create_key(self, key: ApiKeyRecord) -> None:
        fields: dict[str, str | int] = {
            "id": key.id,
            "name": key.name,
            "prefix": key.prefix,
            "secret_digest": key.secret_digest,
            "scopes": join_scopes(key.scopes),
            "rate_limit": key.rate_limit,
            "created_at": to_micros(key.created_at),
        }
        for name, moment in (
            ("expires_at", key.expires_at),
            ("last_used_at", key.last_used_at),
            ("revoked_at", key.revoked_at),
        ):
            if moment is not None:
                fields[name] = to_micros(moment)
        keys = [
            self._names.key(key.id),
            self._names.digest_index(key.secret_digest),
            self._names.keys,
        ]
        if key.created_by is not None:
            fields["created_by"] = key.created_by
        if key.owner_id is not None:
            fields["owner_id"] = key.owner_id
            keys += [self._names.user_instance(key.owner_id), self._names.user_keys(key.owner_id)]
        flat = [item for pair in fields.items() for item in pair]
        created = await self._script(CREATE_KEY)(keys=keys, args=[key.id, *flat])
        if created == -1:
            raise UnknownUser(key.owner_id)
        if not created:
            raise AlreadyExists(key.id)

    async def get_key(self, key_id: str) -> ApiKeyRecord | None:
        fields = mapping(await self._redis.hgetall(self._names.key(key_id)))
        return key_record(fields) if fields else None

    async def find_key_by_digest(self, secret_digest: str) -> ApiKeyRecord | None:
        flat = await self._script(FIND_KEY_BY_DIGEST)(
            keys=[self._names.digest_index(secret_digest)], args=[self._names.key("")]
        )
        fields = pairs(flat)
        return key_record(fields) if fields else None

    async def list_keys(self) -> list[ApiKeyRecord]:
        ids = [text(key_id) for key_id in await self._redis.smembers(self._names.keys)]
        async with self._redis.pipeline(transaction=False) as pipe:
            for key_id in ids:
                pipe.hgetall(self._names.key(key_id))
            rows = await pipe.execute()
        records = [key_record(mapping(raw)) for raw in rows if raw]
        return sorted(records, key=lambda record: (record.created_at, record.id))

    async def revoke_key(self, key_id: str, at: datetime) -> bool:
        revoked = await self._change(
            REVOKE_KEY, keys=[self._names.key(key_id)], args=[to_micros(at)]
        )
        return bool(revoked)

    async def rotate_key(
        self, key_id: str, new_prefix: str, new_secret_digest: str
    ) -> ApiKeyRecord | None:
        """Refuses (``None``) a revoked key: revocation is final."""
        status, *flat = await self._change(
            ROTATE_KEY,
            keys=[self._names.key(key_id), self._names.digest_index(new_secret_digest)],
            args=[key_id, new_prefix, new_secret_digest, self._names.digest_index("")],
        )
        if status == -1:
            raise AlreadyExists(key_id)
        return key_record(pairs(flat)) if status == 1 else None

    async def update_key(
        self, key_id: str, *, name: str | None = None, rate_limit: str | None = None
    ) -> ApiKeyRecord | None:
        changes = {"name": name, "rate_limit": rate_limit}
        flat = [item for pair in changes.items() if pair[1] is not None for item in pair]
        fields = pairs(await self._change(UPDATE_KEY, keys=[self._names.key(key_id)], args=flat))
        return key_record(fields) if fields else None

    async def touch_keys(self, uses: Mapping[str, datetime]) -> None:
        if uses:
            await self._script(TOUCH_KEYS)(
                keys=[self._names.key(key_id) for key_id in uses],
                args=[to_micros(at) for at in uses.values()],
            )


def key_record(fields: dict[str, str]) -> ApiKeyRecord:
    return ApiKeyRecord(
        id=fields["id"],
        name=fields["name"],
        prefix=fields["prefix"],
        secret_digest=fields["secret_digest"],
        scopes=split_scopes(fields["scopes"]),
        rate_limit=fields["rate_limit"],
        created_at=from_micros(fields["created_at"]),
        expires_at=optional_datetime(fields.get("expires_at")),
        last_used_at=optional_datetime(fields.get("last_used_at")),
        revoked_at=optional_datetime(fields.get("revoked_at")),
        created_by=fields.get("created_by"),
        owner_id=fields.get("owner_id"),
    )
