"""When to stop asking Redis, when to ask again, and what to log about it.

During an outage every request that tries Redis waits for a connect or read
timeout; a breaker keeps that cost to one probe per interval instead of one
per request, and keeps the log to one warning per outage instead of one per
request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)


class OutageBreaker:
    def __init__(
        self, probe_interval_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._probe_interval = probe_interval_seconds
        self._clock = clock
        self._down_since: float | None = None
        self._next_probe_at = 0.0

    @property
    def is_open(self) -> bool:
        """True while an outage is under way."""
        return self._down_since is not None

    def should_try(self) -> bool:
        """Whether this request may talk to Redis.

        Always while healthy; during an outage only the first request after each
        interval (the probe), so concurrent requests do not all wait on a dead server.
        """
        if self._down_since is None:
            return True
        now = self._clock()
        if now < self._next_probe_at:
            return False
        self._next_probe_at = now + self._probe_interval
        return True

    def record_failure(self, error: BaseException, policy: str) -> None:
        now = self._clock()
        self._next_probe_at = now + self._probe_interval
        if self._down_since is not None:
            return
        self._down_since = now
        logger.warning(
            "rate limiter: Redis unavailable, %s until it answers again",
            "using in-process limits" if policy == "fail-open" else "refusing limited requests",
            extra={"fields": {"policy": policy, "error": f"{type(error).__name__}: {error}"}},
        )

    def record_success(self) -> None:
        if self._down_since is None:
            return
        outage_seconds = self._clock() - self._down_since
        self._down_since = None
        logger.info(
            "rate limiter: Redis answers again, shared limits resumed",
            extra={"fields": {"outage_seconds": round(outage_seconds, 3)}},
        )
