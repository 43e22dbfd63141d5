"""Refresh-token families and access-token revocations in Redis.

A refresh token is a hash under its digest; its family a hash that says
whether the family is revoked; each user has a sorted set of their families
(so deleting the user can revoke them all). A revoked jti is a key that
expires when its token would have. Every key carries a TTL, so nothing
outlives its use.
"""

from __future__ import annotations

import time
from datetime import datetime

from auth.store.base import AlreadyExists, RefreshTokenRecord, SpendOutcome, SpendResult
from auth.store.encoding import from_micros, join_scopes, split_scopes, to_micros, token_second
from auth.store.redis.base import RedisStoreBase, text

ADD_REFRESH = """
-- KEYS: token hash, family hash, the user's families (zset).
-- ARGV: family_id, username, scopes, expires_at_us, expires_at_ms, now_ms
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'family_id', ARGV[1], 'username', ARGV[2], 'scopes', ARGV[3],
           'expires_at', ARGV[4])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
redis.call('HSETNX', KEYS[2], 'username', ARGV[2])
redis.call('HSETNX', KEYS[2], 'revoked', '0')
local family_expiry = tonumber(redis.call('HGET', KEYS[2], 'expires_at_ms') or '0')
if family_expiry < tonumber(ARGV[5]) then
  redis.call('HSET', KEYS[2], 'expires_at_ms', ARGV[5])
  redis.call('PEXPIREAT', KEYS[2], ARGV[5])
end
redis.call('ZADD', KEYS[3], 'GT', ARGV[5], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[6])
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[3], last[2])
return 1
"""

SPEND_REFRESH = """
-- KEYS: token hash. ARGV: now_us, family key prefix
-- Returns {outcome} or {outcome, family_id, username, scopes, expires_at_us}.
local t = redis.call('HMGET', KEYS[1], 'family_id', 'username', 'scopes', 'expires_at', 'spent')
if not t[1] then return {'invalid'} end
if tonumber(t[4]) <= tonumber(ARGV[1]) then return {'invalid'} end
local family = ARGV[2] .. t[1]
if redis.call('HGET', family, 'revoked') ~= '0' then return {'invalid'} end
if t[5] == '1' then
  redis.call('HSET', family, 'revoked', '1')
  return {'reused', t[1], t[2], t[3], t[4]}
end
redis.call('HSET', KEYS[1], 'spent', '1')
return {'spent', t[1], t[2], t[3], t[4]}
"""

REVOKE_FAMILY = """
-- KEYS: family hash
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'revoked', '1') end
return 1
"""


class RedisTokens(RedisStoreBase):
    async def add_refresh_token(self, token: RefreshTokenRecord) -> None:
        expires_at_us = to_micros(token.expires_at)
        added = await self._script(ADD_REFRESH)(
            keys=[
                self._names.refresh(token.digest),
                self._names.family(token.family_id),
                self._names.user_families(token.username),
            ],
            args=[
                token.family_id,
                token.username,
                join_scopes(token.scopes),
                expires_at_us,
                expires_at_us // 1_000,
                time.time_ns() // 1_000_000,
            ],
        )
        if not added:
            raise AlreadyExists(token.family_id)

    async def spend_refresh_token(self, digest: str, now: datetime) -> SpendResult:
        outcome, *fields = [
            text(item)
            for item in await self._script(SPEND_REFRESH)(
                keys=[self._names.refresh(digest)], args=[to_micros(now), self._names.family("")]
            )
        ]
        if outcome == "invalid":
            return SpendResult(SpendOutcome.INVALID)
        family_id, username, scopes, expires_at = fields
        record = RefreshTokenRecord(
            digest=digest,
            family_id=family_id,
            username=username,
            scopes=split_scopes(scopes),
            expires_at=from_micros(expires_at),
        )
        return SpendResult(SpendOutcome(outcome), record)

    async def revoke_refresh_family(self, family_id: str) -> None:
        await self._script(REVOKE_FAMILY)(keys=[self._names.family(family_id)], args=[])

    async def revoke_access_token(self, jti: str, expires_at: datetime) -> None:
        remaining_ms = to_micros(expires_at) // 1_000 - time.time_ns() // 1_000_000
        if remaining_ms > 0:
            await self._redis.set(self._names.revoked_jti(jti), "1", px=remaining_ms)

    async def access_token_is_live(self, jti: str, username: str, issued_at: datetime) -> bool:
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.exists(self._names.revoked_jti(jti))
            pipe.hget(self._names.user(username), "created_at")
            revoked, created_at = await pipe.execute()
        if revoked or created_at is None:
            return False
        return token_second(from_micros(created_at)) <= token_second(issued_at)
