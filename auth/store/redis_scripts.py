"""Lua for every multi-key change the Redis adapter makes: Redis runs a script atomically.

Times are whole microseconds since the epoch (``*_us``) or milliseconds
(``*_ms``, for key expiry). A family's key is derived from data read inside
the script, so scripts that touch it get the key prefix as an argument.
"""

from __future__ import annotations

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

CREATE_KEY = """
-- KEYS: key hash, digest index, set of key ids. ARGV: id, then field/value pairs
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SET', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"""

FIND_KEY_BY_DIGEST = """
-- KEYS: digest index. ARGV: key hash prefix
local key_id = redis.call('GET', KEYS[1])
if not key_id then return {} end
return redis.call('HGETALL', ARGV[1] .. key_id)
"""

REVOKE_KEY = """
-- KEYS: key hash. ARGV: revoked_at_us
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1])
return 1
"""

ROTATE_KEY = """
-- KEYS: key hash, new digest index. ARGV: id, new prefix, new digest, digest index prefix
-- Returns {0} unknown or revoked, {-1} digest taken, {1, fields...} rotated.
if redis.call('EXISTS', KEYS[1]) == 0 then return {0} end
if redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then return {0} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {-1} end
local old = redis.call('HGET', KEYS[1], 'secret_digest')
redis.call('DEL', ARGV[4] .. old)
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'prefix', ARGV[2], 'secret_digest', ARGV[3])
local result = {1}
for _, item in ipairs(redis.call('HGETALL', KEYS[1])) do table.insert(result, item) end
return result
"""

TOUCH_KEY = """
-- KEYS: key hash. ARGV: last_used_at_us
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
end
return 1
"""

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
