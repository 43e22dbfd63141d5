"""Users in Redis: a hash per user, an index from user id to name, the set of usernames.

Deleting a user ends everything bound to that instance in the same script:
its refresh families and the API keys it owns.
"""

from __future__ import annotations

from datetime import datetime

from auth.store.base import AlreadyExists, LastAdmin, UserRecord, new_user_id
from auth.store.encoding import from_micros, join_scopes, split_scopes, to_micros
from auth.store.redis.base import RedisStoreBase, mapping, pairs, text

CREATE_USER = """
-- KEYS: user hash, set of usernames, user-id index.
-- ARGV: username, password_hash, scopes, created_at_us, user_id
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'user_id', ARGV[5], 'password_hash', ARGV[2], 'scopes', ARGV[3],
           'created_at', ARGV[4])
redis.call('SET', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
"""

OTHER_ADMIN = """
-- Whether a user other than `me` holds the admin scope (users are few: people, not clients).
local function other_admin(users, user_prefix, me)
  for _, name in ipairs(redis.call('SMEMBERS', users)) do
    if name ~= me then
      local scopes = redis.call('HGET', user_prefix .. name, 'scopes')
      if scopes and string.find(' ' .. scopes .. ' ', ' admin ', 1, true) then return true end
    end
  end
  return false
end
local function is_admin(scopes)
  return scopes and string.find(' ' .. scopes .. ' ', ' admin ', 1, true) ~= nil
end
"""
LAST_ADMIN = -1

DELETE_USER = (
    OTHER_ADMIN
    + """
-- KEYS: user hash, set of usernames.
-- ARGV: username, user-id index prefix, user-families prefix, family prefix,
--       user-keys prefix, key hash prefix, revoked_at_us, user hash prefix, channel
if is_admin(redis.call('HGET', KEYS[1], 'scopes'))
   and not other_admin(KEYS[2], ARGV[8], ARGV[1]) then return changes(-1) end
local user_id = redis.call('HGET', KEYS[1], 'user_id')
if redis.call('DEL', KEYS[1]) == 0 then return changes(0) end
redis.call('SREM', KEYS[2], ARGV[1])
table.insert(changed, 'user:' .. ARGV[1])
if not user_id then return changes(1) end
redis.call('DEL', ARGV[2] .. user_id)
local families = ARGV[3] .. user_id
for _, family_id in ipairs(redis.call('ZRANGE', families, 0, -1)) do
  local family = ARGV[4] .. family_id
  if redis.call('EXISTS', family) == 1 then redis.call('HSET', family, 'revoked', '1') end
  table.insert(changed, 'family:' .. family_id)
end
redis.call('DEL', families)
local owned = ARGV[5] .. user_id
for _, key_id in ipairs(redis.call('SMEMBERS', owned)) do
  local key = ARGV[6] .. key_id
  if redis.call('EXISTS', key) == 1 and redis.call('HEXISTS', key, 'revoked_at') == 0 then
    redis.call('HSET', key, 'revoked_at', ARGV[7])
    table.insert(changed, 'key:' .. redis.call('HGET', key, 'secret_digest'))
  end
end
redis.call('DEL', owned)
return changes(1)
"""
)

SET_USER_SCOPES = (
    OTHER_ADMIN
    + """
-- KEYS: user hash, set of usernames. ARGV: username, scopes, user hash prefix, channel.
-- Returns the hash, flat ({} if unknown), or -1 when it would leave no admin.
if redis.call('EXISTS', KEYS[1]) == 0 then return changes({}) end
if is_admin(redis.call('HGET', KEYS[1], 'scopes')) and not is_admin(ARGV[2])
   and not other_admin(KEYS[2], ARGV[3], ARGV[1]) then return changes(-1) end
redis.call('HSET', KEYS[1], 'scopes', ARGV[2])
table.insert(changed, 'user:' .. ARGV[1])
return changes(redis.call('HGETALL', KEYS[1]))
"""
)

SET_USER_PASSWORD = """
-- KEYS: user hash. ARGV: username, password_hash, family to keep (or ''),
--       user-families prefix, family prefix, channel. Returns the hash, flat ({} if unknown).
if redis.call('EXISTS', KEYS[1]) == 0 then return changes({}) end
redis.call('HSET', KEYS[1], 'password_hash', ARGV[2])
table.insert(changed, 'user:' .. ARGV[1])
local user_id = redis.call('HGET', KEYS[1], 'user_id')
if user_id then
  for _, family_id in ipairs(redis.call('ZRANGE', ARGV[4] .. user_id, 0, -1)) do
    local family = ARGV[5] .. family_id
    if family_id ~= ARGV[3] and redis.call('EXISTS', family) == 1 then
      redis.call('HSET', family, 'revoked', '1')
      table.insert(changed, 'family:' .. family_id)
    end
  end
end
return changes(redis.call('HGETALL', KEYS[1]))
"""  # noqa: S105 (a script, not a password)

ADOPT_USER = """
-- A user stored before users had ids gets one, once. KEYS: user hash.
-- ARGV: username, new user_id, user-id index prefix. Returns the hash, flat.
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('HEXISTS', KEYS[1], 'user_id') == 0 then
  redis.call('HSET', KEYS[1], 'user_id', ARGV[2])
  redis.call('SET', ARGV[3] .. ARGV[2], ARGV[1])
end
return redis.call('HGETALL', KEYS[1])
"""


class RedisUsers(RedisStoreBase):
    async def create_user(self, user: UserRecord) -> None:
        created = await self._script(CREATE_USER)(
            keys=[
                self._names.user(user.username),
                self._names.users,
                self._names.user_instance(user.user_id),
            ],
            args=[
                user.username,
                user.password_hash,
                join_scopes(user.scopes),
                to_micros(user.created_at),
                user.user_id,
            ],
        )
        if not created:
            raise AlreadyExists(user.username)

    async def get_user(self, username: str) -> UserRecord | None:
        fields = mapping(await self._redis.hgetall(self._names.user(username)))
        return await self._user_record(username, fields)

    async def list_users(self) -> list[UserRecord]:
        names = sorted(text(name) for name in await self._redis.smembers(self._names.users))
        async with self._redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.hgetall(self._names.user(name))
            rows = await pipe.execute()
        users = [
            await self._user_record(name, mapping(raw))
            for name, raw in zip(names, rows, strict=True)
        ]
        return [user for user in users if user is not None]

    async def count_users(self) -> int:
        return int(await self._redis.scard(self._names.users))

    async def set_user_scopes(self, username: str, scopes: frozenset[str]) -> UserRecord | None:
        flat = await self._change(
            SET_USER_SCOPES,
            keys=[self._names.user(username), self._names.users],
            args=[username, join_scopes(scopes), self._names.user("")],
        )
        if flat == LAST_ADMIN:
            raise LastAdmin(username)
        return await self._user_record(username, pairs(flat))

    async def set_user_password(
        self, username: str, password_hash: str, keep_family: str | None = None
    ) -> UserRecord | None:
        flat = await self._change(
            SET_USER_PASSWORD,
            keys=[self._names.user(username)],
            args=[
                username,
                password_hash,
                keep_family or "",
                self._names.user_families(""),
                self._names.family(""),
            ],
        )
        return await self._user_record(username, pairs(flat))

    async def delete_user(self, username: str, at: datetime) -> bool:
        deleted = await self._change(
            DELETE_USER,
            keys=[self._names.user(username), self._names.users],
            args=[
                username,
                self._names.user_instance(""),
                self._names.user_families(""),
                self._names.family(""),
                self._names.user_keys(""),
                self._names.key(""),
                to_micros(at),
                self._names.user(""),
            ],
        )
        if deleted == LAST_ADMIN:
            raise LastAdmin(username)
        return bool(deleted)

    async def _user_record(self, username: str, fields: dict[str, str]) -> UserRecord | None:
        if fields and "user_id" not in fields:
            fields = pairs(
                await self._script(ADOPT_USER)(
                    keys=[self._names.user(username)],
                    args=[username, new_user_id(), self._names.user_instance("")],
                )
            )
        if not fields:
            return None
        return UserRecord(
            username=username,
            password_hash=fields["password_hash"],
            scopes=split_scopes(fields["scopes"]),
            created_at=from_micros(fields["created_at"]),
            user_id=fields["user_id"],
        )
