"""The limiter: one ``hit`` per request, shared through Redis, degrading by policy.

One instance per worker process, created in the app lifespan (after Gunicorn
forks, so no socket is shared between processes) and closed on shutdown.
With a Redis URL every worker and host sharing that Redis counts in the same
buckets; without one, limits are in-process (one process, one host).
"""

from __future__ import annotations

import asyncio
import time
from typing import Literal
from urllib.parse import quote

from limits import RateLimitItem
from limits.aio.strategies import RateLimiter

from app.ratelimit.breaker import OutageBreaker
from app.ratelimit.decision import RateLimitDecision, parse_limit
from app.ratelimit.metrics import FALLBACK_DECISIONS, UNAVAILABLE_REFUSALS
from app.ratelimit.storage import (
    StrategyName,
    close_memory_storage,
    make_strategy,
    memory_storage,
    redis_pool,
    redis_storage,
)
from app.settings import Settings

OutagePolicy = Literal["fail-open", "fail-closed"]

DEFAULT_PROBE_INTERVAL_SECONDS = 0.5


class LimiterUnavailable(Exception):
    """Redis cannot be reached and the outage policy is fail-closed."""


class Limiter:
    def __init__(
        self,
        strategy: StrategyName = "moving-window",
        *,
        redis_url: str | None = None,
        timeout_seconds: float = 0.5,
        outage_policy: OutagePolicy = "fail-open",
        probe_interval_seconds: float = DEFAULT_PROBE_INTERVAL_SECONDS,
    ) -> None:
        self._timeout = timeout_seconds
        self._policy: OutagePolicy = outage_policy
        self._breaker = OutageBreaker(probe_interval_seconds)
        # The local storage is the whole limiter without Redis, and the
        # fail-open fallback with it.
        self._local_storage = memory_storage()
        self._local = make_strategy(strategy, self._local_storage)
        self._pool = redis_pool(redis_url, timeout_seconds) if redis_url else None
        self._shared: RateLimiter | None = (
            make_strategy(strategy, redis_storage(self._pool)) if self._pool else None
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Limiter:
        """The worker's limiter; a limit setting that does not parse stops the start-up."""
        for configured in (
            settings.default_rate_limit,
            settings.anonymous_rate_limit,
            settings.login_failure_limit,
        ):
            parse_limit(configured)
        return cls(
            settings.rate_limit_strategy,
            redis_url=settings.redis_url,
            timeout_seconds=settings.redis_timeout_seconds,
            outage_policy=settings.rate_limit_outage_policy,
        )

    @property
    def is_shared(self) -> bool:
        """Whether decisions are made in Redis (when it answers)."""
        return self._shared is not None

    async def hit(self, limit: str, key: str) -> RateLimitDecision:
        """Count one request against ``key`` under ``limit`` (e.g. ``"100/minute"``)."""
        return await self._decide(parse_limit(limit), key, consume=True)

    async def peek(self, limit: str, key: str) -> RateLimitDecision:
        """What ``hit`` would decide now, without counting anything."""
        return await self._decide(parse_limit(limit), key, consume=False)

    async def ping(self) -> bool:
        """Readiness: the shared store answers within the timeout (always true without one)."""
        if self._shared is None:
            return True
        try:
            async with asyncio.timeout(self._timeout):
                return await self._shared.storage.check()
        except Exception:
            return False

    async def aclose(self) -> None:
        await close_memory_storage(self._local_storage)
        if self._pool is not None:
            await self._pool.aclose()

    async def _decide(self, item: RateLimitItem, key: str, *, consume: bool) -> RateLimitDecision:
        # '/' separates the parts of a `limits` key: quoting keeps two keys from colliding.
        bucket = quote(key, safe=":@")
        if self._shared is None:
            return await _evaluate(self._local, item, bucket, consume)
        if self._breaker.should_try():
            try:
                # Any failure at all degrades by policy: a limiter must never turn into a 500.
                async with asyncio.timeout(self._timeout):
                    decision = await _evaluate(self._shared, item, bucket, consume)
            except Exception as exc:
                self._breaker.record_failure(exc, self._policy)
            else:
                self._breaker.record_success()
                return decision
        if self._policy == "fail-closed":
            UNAVAILABLE_REFUSALS.inc()
            raise LimiterUnavailable("rate limiter unavailable")
        FALLBACK_DECISIONS.inc()
        return await _evaluate(self._local, item, bucket, consume)


async def _evaluate(
    strategy: RateLimiter, item: RateLimitItem, bucket: str, consume: bool
) -> RateLimitDecision:
    if consume:
        allowed = await strategy.hit(item, bucket)
        stats = await strategy.get_window_stats(item, bucket)
    else:
        stats = await strategy.get_window_stats(item, bucket)
        allowed = stats.remaining >= 1
    return RateLimitDecision.from_window(item, allowed, stats, time.time())
