"""The limiter: one GCRA step per request, shared through Redis, degrading by policy.

One instance per worker process, created in the app lifespan (after Gunicorn
forks, so no socket is shared between processes) and closed on shutdown.
With a Redis URL every worker and host sharing that Redis counts in the same
buckets, in one round trip per decision (``EVALSHA`` of the GCRA script, its
reply parsed by hiredis); without one, limits are in-process (one process).

Redis is asked through ``app.redis_client``: short timeouts, one retry on a
connection error (stale pooled connections after a restart), never on a
timeout. A connection error that outlives the retry, or a timeout, is an
*outage*: the breaker opens and the policy decides (fail-open
to the in-process buckets, counted; fail-closed to 503). Any other Redis
error (a script refused its arguments) is a *bug*: it is raised, never taken
for an outage that would switch every client of the worker to the fallback.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from app.ratelimit import gcra
from app.ratelimit.breaker import OutageBreaker
from app.ratelimit.decision import RateLimitDecision
from app.ratelimit.local import LocalBuckets
from app.ratelimit.metrics import FALLBACK_DECISIONS, UNAVAILABLE_REFUSALS
from app.redis_client import redis_client
from auth.rate_limits import RateLimit, parse_rate_limit

OutagePolicy = Literal["fail-open", "fail-closed"]

REDIS_KEY_PREFIX = "ratelimit"
DEFAULT_PROBE_INTERVAL_SECONDS = 0.5
OUTAGES = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)


class LimiterUnavailable(Exception):
    """Redis cannot be reached and the outage policy is fail-closed."""


class Limiter:
    def __init__(
        self,
        *,
        redis_url: str | None = None,
        timeout_seconds: float = 0.5,
        outage_policy: OutagePolicy = "fail-open",
        probe_interval_seconds: float = DEFAULT_PROBE_INTERVAL_SECONDS,
        key_prefix: str = REDIS_KEY_PREFIX,
    ) -> None:
        self._timeout = timeout_seconds
        self._policy: OutagePolicy = outage_policy
        self._breaker = OutageBreaker(probe_interval_seconds)
        self._prefix = key_prefix
        # The whole limiter without Redis, and the fail-open fallback with it.
        self._local = LocalBuckets()
        self._redis: Redis | None = None
        if redis_url:
            # Timeouts, the one retry, lost connections: app/redis_client.py.
            self._redis = redis_client(redis_url, timeout_seconds)
            self._script = self._redis.register_script(gcra.SCRIPT)

    @property
    def is_shared(self) -> bool:
        """Whether decisions are made in Redis (when it answers)."""
        return self._redis is not None

    async def hit(self, limit: str | RateLimit, key: str) -> RateLimitDecision:
        """Count one request against ``key`` under ``limit`` (e.g. ``"100/minute"``)."""
        return await self._decide(_limit(limit), key, consume=True)

    async def peek(self, limit: str | RateLimit, key: str) -> RateLimitDecision:
        """What ``hit`` would decide now, without counting anything."""
        return await self._decide(_limit(limit), key, consume=False)

    async def ping(self) -> bool:
        """Readiness: the shared store answers within the timeout (always true without one)."""
        if self._redis is None:
            return True
        try:
            async with asyncio.timeout(self._timeout):
                return bool(await self._redis.ping())
        except Exception:
            return False

    async def aclose(self) -> None:
        if self._redis is not None:
            await self._redis.aclose(close_connection_pool=True)

    async def _decide(self, limit: RateLimit, key: str, *, consume: bool) -> RateLimitDecision:
        if self._redis is None:
            return self._local.decide(limit, key, consume=consume)
        if self._breaker.should_try():
            try:
                async with asyncio.timeout(self._timeout):
                    step = await self._shared_step(limit, key, consume)
            except OUTAGES as exc:
                self._breaker.record_failure(exc, self._policy)
            else:
                self._breaker.record_success()
                return RateLimitDecision.from_step(limit, step, consumed=consume)
        if self._policy == "fail-closed":
            UNAVAILABLE_REFUSALS.inc()
            raise LimiterUnavailable("rate limiter unavailable")
        FALLBACK_DECISIONS.inc()
        return self._local.decide(limit, key, consume=consume)

    async def _shared_step(self, limit: RateLimit, key: str, consume: bool) -> gcra.Step:
        interval_us = limit.interval_ms * 1000
        admitted, ahead, now = await self._script(
            keys=[f"{self._prefix}:{key}"],
            args=[repr(interval_us), limit.period_seconds * 1_000_000, 1 if consume else 0],
        )
        return gcra.Step(bool(admitted), float(ahead), float(now))


def _limit(limit: str | RateLimit) -> RateLimit:
    return limit if isinstance(limit, RateLimit) else parse_rate_limit(limit)
