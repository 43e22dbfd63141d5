"""What one rate-limit check decided, derived from the GCRA state of the client's bucket."""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.ratelimit import gcra
from app.ratelimit.gcra import Step
from auth.rate_limits import RateLimit

MICROS = 1_000_000


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    allowed: bool
    limit: RateLimit
    remaining: int
    """Requests that would still be admitted right now (never negative)."""
    reset_after: float
    """Seconds until the whole quota is back."""
    retry_after: int
    """Whole seconds to wait before the same request is admitted; 0 when allowed."""
    decided_at: float
    """Epoch seconds, by the clock that decided (Redis's on Redis)."""

    @property
    def reset_at(self) -> float:
        """Epoch seconds at which the whole quota is back."""
        return self.decided_at + self.reset_after

    @property
    def reset_in(self) -> int:
        """Whole seconds a client should wait: until it may retry, or until the quota is whole."""
        return self.retry_after if not self.allowed else math.ceil(self.reset_after)

    @classmethod
    def from_step(cls, limit: RateLimit, step: Step, *, consumed: bool) -> RateLimitDecision:
        interval = limit.interval_ms * 1000
        period = limit.period_seconds * MICROS
        ahead = step.ahead_us + (interval if step.admitted and consumed else 0.0)
        room = period + gcra.slack_us(step.now_us, interval, period) - ahead
        remaining = max(0, math.floor(room / interval))
        retry_after = 0
        if not step.admitted:
            # The request fits once the TAT is no more than P - T ahead of the clock.
            retry_after = max(1, math.ceil((step.ahead_us + interval - period) / MICROS))
        return cls(
            allowed=step.admitted,
            limit=limit,
            remaining=remaining,
            reset_after=ahead / MICROS,
            retry_after=retry_after,
            decided_at=step.now_us / MICROS,
        )
