"""Refresh-token families and access-token revocations in Redis.

A refresh token is a hash under its digest; its family a hash that says
whether the family is revoked; each user instance has a sorted set of its
families (so deleting the user can revoke them all). A revoked jti is a key
that expires when its token would have. Every key carries a TTL, so nothing
outlives its use.
"""

from __future__ import annotations

import time
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
from auth.store.encoding import (
    from_micros,
    join_scopes,
    refresh_record,
    to_micros,
)
from auth.store.redis.base import mapping, text
from auth.store.redis.users import RedisUsers

ADD_REFRESH = """
-- KEYS: token hash, family hash, the user's families (zset), the user-id index.
-- ARGV: family_id, user_id, username, scopes, expires_at_us, expires_at_ms, now_ms,
--       family_ends_at_us, channel
-- Returns 1 added, 0 token or family taken, -1 the user instance is gone.
if redis.call('EXISTS', KEYS[4]) == 0 then return changes(-1) end
if redis.call('EXISTS', KEYS[1]) == 1 then return changes(0) end
local owner = redis.call('HGET', KEYS[2], 'user_id')
if owner and owner ~= ARGV[2] then return changes(0) end
redis.call('HSET', KEYS[1], 'family_id', ARGV[1], 'user_id', ARGV[2], 'username', ARGV[3],
           'scopes', ARGV[4], 'expires_at', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
redis.call('HSETNX', KEYS[2], 'user_id', ARGV[2])
redis.call('HSETNX', KEYS[2], 'revoked', '0')
redis.call('HSETNX', KEYS[2], 'ends_at', ARGV[8])
local family_expiry = tonumber(redis.call('HGET', KEYS[2], 'expires_at') or '0')
if family_expiry < tonumber(ARGV[5]) then
  redis.call('HSET', KEYS[2], 'expires_at', ARGV[5])
  redis.call('PEXPIREAT', KEYS[2], ARGV[6])
  -- A family already known (and cached) now lasts longer.
  if owner then table.insert(changed, 'family:' .. ARGV[1]) end
end
redis.call('ZADD', KEYS[3], 'GT', ARGV[6], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[7])
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[3], last[2]) end
return changes(1)
"""

SPEND_REFRESH = """
-- KEYS: token hash. ARGV: now_us, family key prefix, user-id index prefix, channel
-- Returns {outcome} or
--         {outcome, family_id, user_id, username, scopes, expires_at_us, family_ends_at_us}.
local t = redis.call('HMGET', KEYS[1], 'family_id', 'user_id', 'username', 'scopes',
                     'expires_at', 'spent')
if not t[1] or not t[2] then return changes({'invalid'}) end
if tonumber(t[5]) <= tonumber(ARGV[1]) then return changes({'invalid'}) end
local family = ARGV[2] .. t[1]
local f = redis.call('HMGET', family, 'revoked', 'ends_at')
if f[1] ~= '0' or not f[2] or tonumber(f[2]) <= tonumber(ARGV[1]) then
  return changes({'invalid'})
end
if redis.call('EXISTS', ARGV[3] .. t[2]) == 0 then
  redis.call('HSET', family, 'revoked', '1')
  table.insert(changed, 'family:' .. t[1])
  return changes({'invalid'})
end
local outcome = 'spent'
if t[6] == '1' then
  redis.call('HSET', family, 'revoked', '1')
  table.insert(changed, 'family:' .. t[1])
  outcome = 'reused'
else
  redis.call('HSET', KEYS[1], 'spent', '1')
end
return changes({outcome, t[1], t[2], t[3], t[4], t[5], f[2]})
"""

REVOKE_FAMILY = """
-- KEYS: family hash. ARGV: family_id, channel
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'revoked', '1') end
table.insert(changed, 'family:' .. ARGV[1])
return changes(1)
"""

REVOKE_JTI = """
-- KEYS: revoked-jti key. ARGV: jti, milliseconds the token stays acceptable, channel
if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[1], '1', 'PX', ARGV[2]) end
table.insert(changed, 'jti:' .. ARGV[1])
return changes(1)
"""


class RedisTokens(RedisUsers):
    async def add_refresh_token(self, token: RefreshTokenRecord) -> None:
        expires_at_us = to_micros(token.expires_at)
        added = await self._change(
            ADD_REFRESH,
            keys=[
                self._names.refresh(token.digest),
                self._names.family(token.family_id),
                self._names.user_families(token.user_id),
                self._names.user_instance(token.user_id),
            ],
            args=[
                token.family_id,
                token.user_id,
                token.username,
                join_scopes(token.scopes),
                expires_at_us,
                expires_at_us // 1_000,
                time.time_ns() // 1_000_000,
                to_micros(token.family_ends_at),
            ],
        )
        if added == -1:
            raise UnknownUser(token.user_id)
        if not added:
            raise AlreadyExists(token.family_id)

    async def spend_refresh_token(self, digest: str, now: datetime) -> SpendResult:
        outcome, *fields = [
            text(item)
            for item in await self._change(
                SPEND_REFRESH,
                keys=[self._names.refresh(digest)],
                args=[to_micros(now), self._names.family(""), self._names.user_instance("")],
            )
        ]
        if outcome == "invalid":
            return SpendResult(SpendOutcome.INVALID)
        record = refresh_record(digest, *fields)
        return SpendResult(SpendOutcome(outcome), record)

    async def revoke_refresh_family(self, family_id: str) -> None:
        await self._change(REVOKE_FAMILY, keys=[self._names.family(family_id)], args=[family_id])

    async def revoke_access_token(self, jti: str, expires_at: datetime) -> None:
        remaining_ms = to_micros(expires_at) // 1_000 - time.time_ns() // 1_000_000
        await self._change(
            REVOKE_JTI, keys=[self._names.revoked_jti(jti)], args=[jti, remaining_ms]
        )

    async def access_token_facts(self, jti: str, username: str, family_id: str) -> AccessTokenFacts:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(self._names.revoked_jti(jti))
            pipe.hgetall(self._names.user(username))
            pipe.hgetall(self._names.family(family_id))
            revoked, user, family = await pipe.execute()
        return AccessTokenFacts(
            revoked=bool(revoked),
            user=await self._user_record(username, mapping(user)),
            family=family_record(family_id, mapping(family)),
        )


def family_record(family_id: str, fields: dict[str, str]) -> FamilyRecord | None:
    if "ends_at" not in fields:  # unknown, expired, or written by an earlier version
        return None
    return FamilyRecord(
        family_id=family_id,
        user_id=fields["user_id"],
        revoked=fields.get("revoked") != "0",
        expires_at=from_micros(fields["expires_at"]),
        ends_at=from_micros(fields["ends_at"]),
    )
