"""The shared credential store: Redis, for any number of workers and hosts.

Every multi-key change is one Lua script, so it is atomic. The adapter is
assembled from one part per idea (users, and the tokens bound to them; API
keys; audit); the key
layout is in ``layout``.
"""

from __future__ import annotations

from redis.asyncio import Redis

from auth.store.redis.api_keys import RedisApiKeys
from auth.store.redis.audit import DEFAULT_AUDIT_CAPACITY, RedisAudit
from auth.store.redis.feed import RedisChangeFeed
from auth.store.redis.tokens import RedisTokens

DEFAULT_KEY_PREFIX = "hapi:"

__all__ = ["DEFAULT_KEY_PREFIX", "RedisCredentialStore"]


class RedisCredentialStore(RedisTokens, RedisApiKeys, RedisAudit, RedisChangeFeed):
    def __init__(
        self,
        client: Redis,
        *,
        key_prefix: str = DEFAULT_KEY_PREFIX,
        audit_capacity: int = DEFAULT_AUDIT_CAPACITY,
    ) -> None:
        super().__init__(client, key_prefix=key_prefix)
        self._audit_capacity = audit_capacity

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def close(self) -> None:
        """The client belongs to the caller, who closes it."""
