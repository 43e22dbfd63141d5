"""Users in Redis: one hash per user and the set of every username."""

from __future__ import annotations

from auth.store.base import AlreadyExists, UserRecord
from auth.store.encoding import from_micros, join_scopes, split_scopes, to_micros
from auth.store.redis.base import RedisStoreBase, mapping, text

CREATE_USER = """
-- KEYS: user hash, set of usernames. ARGV: username, password_hash, scopes, created_at_us
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'password_hash', ARGV[2], 'scopes', ARGV[3], 'created_at', ARGV[4])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""

DELETE_USER = """
-- KEYS: user hash, set of usernames, the user's families (zset).
-- ARGV: username, family key prefix
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
for _, family_id in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
  local family = ARGV[2] .. family_id
  if redis.call('EXISTS', family) == 1 then redis.call('HSET', family, 'revoked', '1') end
end
redis.call('DEL', KEYS[3])
return 1
"""


class RedisUsers(RedisStoreBase):
    async def create_user(self, user: UserRecord) -> None:
        created = await self._script(CREATE_USER)(
            keys=[self._names.user(user.username), self._names.users],
            args=[
                user.username,
                user.password_hash,
                join_scopes(user.scopes),
                to_micros(user.created_at),
            ],
        )
        if not created:
            raise AlreadyExists(user.username)

    async def get_user(self, username: str) -> UserRecord | None:
        fields = mapping(await self._redis.hgetall(self._names.user(username)))
        return user_record(username, fields) if fields else None

    async def list_users(self) -> list[UserRecord]:
        names = sorted(text(name) for name in await self._redis.smembers(self._names.users))
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(self._names.user(name))
            rows = await pipe.execute()
        return [
            user_record(name, mapping(raw)) for name, raw in zip(names, rows, strict=True) if raw
        ]

    async def count_users(self) -> int:
        return int(await self._redis.scard(self._names.users))

    async def delete_user(self, username: str) -> bool:
        deleted = await self._script(DELETE_USER)(
            keys=[
                self._names.user(username),
                self._names.users,
                self._names.user_families(username),
            ],
            args=[username, self._names.family("")],
        )
        return bool(deleted)


def user_record(username: str, fields: dict[str, str]) -> UserRecord:
    return UserRecord(
        username=username,
        password_hash=fields["password_hash"],
        scopes=split_scopes(fields["scopes"]),
        created_at=from_micros(fields["created_at"]),
    )
