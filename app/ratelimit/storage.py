"""The `limits` storages and strategies the limiter counts with.

Redis is reached through a redis-py pool with short timeouts and no retries:
redis-py's default client retries ten times with backoff (about 4.4 s before
an error surfaces), which would hold every limited request hostage to an
outage. One attempt, bounded by the timeout, then the outage policy decides.
"""

from __future__ import annotations

from typing import Literal

from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import (
    MovingWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from redis.asyncio import ConnectionPool
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

StrategyName = Literal["moving-window", "sliding-window"]

REDIS_KEY_PREFIX = "ratelimit"
# RedisStorage wants a URI, but with an explicit pool it only reads the scheme;
# the real address (and any password) stays in the pool alone.
_POOL_OWNED_URI = "async+redis://"


def make_strategy(name: StrategyName, storage: Storage) -> RateLimiter:
    """Moving window: exact, one entry per request. Sliding window counter: two counters, O(1)."""
    if name == "moving-window":
        return MovingWindowRateLimiter(storage)
    return SlidingWindowCounterRateLimiter(storage)


def redis_pool(url: str, timeout_seconds: float) -> ConnectionPool:
    return ConnectionPool.from_url(
        url,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), retries=0),
    )


def redis_storage(pool: ConnectionPool) -> RedisStorage:
    """Atomic Lua scripts on Redis: exact across workers and hosts sharing it."""
    return RedisStorage(
        _POOL_OWNED_URI,
        implementation="redispy",
        key_prefix=REDIS_KEY_PREFIX,
        wrap_exceptions=True,
        connection_pool=pool,  # type: ignore[arg-type]
    )


def memory_storage() -> MemoryStorage:
    return MemoryStorage()


async def close_memory_storage(storage: MemoryStorage) -> None:
    """Stop the storage's expiry task so it does not outlive the event loop."""
    if storage.timer is not None and not storage.timer.done():
        storage.timer.cancel()
