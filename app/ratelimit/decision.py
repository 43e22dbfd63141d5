"""What one rate-limit check decided, and the limit strings it is checked against."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from limits import RateLimitItem, parse_many
from limits.util import WindowStats

# Lua's tostring() keeps 14 significant digits, so a window start read back from
# Redis can be a few tens of microseconds early; this margin keeps retry_after honest.
_CLOCK_MARGIN_SECONDS = 0.001


class InvalidLimit(ValueError):
    """A limit string that is not exactly one ``N/period`` limit."""


@lru_cache(maxsize=1024)
def parse_limit(text: str) -> RateLimitItem:
    """Parse ``"100/minute"`` (or ``"3 per 2 seconds"``) once; later calls hit the cache.

    Exactly one limit per string: the headers describe one policy, and an API
    key's ``rate_limit`` is one number per window.
    """
    try:
        items = parse_many(text)
    except ValueError as exc:
        raise InvalidLimit(f"not a rate limit: {text!r}") from exc
    if len(items) != 1 or items[0].amount < 1:
        raise InvalidLimit(f"expected exactly one positive limit such as '100/minute': {text!r}")
    return items[0]


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    allowed: bool
    limit: RateLimitItem
    remaining: int
    """Requests still allowed right now (never negative)."""
    reset_at: float
    """Epoch seconds at which quota starts coming back (the next request would fit)."""
    retry_after: int
    """Whole seconds to wait before the same request is allowed; 0 when allowed."""

    @classmethod
    def from_window(
        cls, limit: RateLimitItem, allowed: bool, stats: WindowStats, now: float
    ) -> RateLimitDecision:
        remaining = max(0, int(stats.remaining))
        # Nothing counted yet: the whole quota is available now.
        reset_at = now if remaining >= limit.amount else max(now, float(stats.reset_time))
        retry_after = 0 if allowed else wait_seconds(reset_at, now)
        return cls(allowed, limit, remaining, reset_at, retry_after)


def wait_seconds(reset_at: float, now: float) -> int:
    """Whole seconds strictly past ``reset_at``: waiting that long is enough, never too little.

    ``floor + 1`` rather than ``ceil``: at the exact instant of ``reset_at`` the
    oldest request still counts (the window check is inclusive).
    """
    return max(1, math.floor(reset_at - now + _CLOCK_MARGIN_SECONDS) + 1)
