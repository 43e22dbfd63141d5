"""Rate-limit strings ("100/minute"): read once, bounded, turned into a count per period.

The grammar is the ``limits`` package's (``N/second|minute|hour|day|month|year``,
``N per M units``), the one slowapi users already write; it is the only part of
``limits`` this project still uses (the limiter itself is GCRA, see
``app/ratelimit``). A limit is bounded on the way in — a count of 1 to
10,000,000 per window of 1 second to 366 days — so a stored limit can never
make the limiter's arithmetic overflow, nor a Redis script refuse its
arguments (``1 per 99999999999999999999 year`` did, and was taken for an outage).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from limits import parse_many

from auth.errors import InvalidInput

MAX_COUNT = 10_000_000
MIN_PERIOD_SECONDS = 1
MAX_PERIOD_SECONDS = 366 * 86_400
MAX_TEXT_LENGTH = 64
FIELD = "rate_limit"
# `limits` reads an explicit multiple of 0 ("1/0 minute") as 1; a zero-length window is refused.
_ZERO_MULTIPLE = re.compile(r"(?:/|\bper\b)\s*0+\s*[a-z]", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class RateLimit:
    count: int
    period_seconds: int
    text: str

    @property
    def interval_ms(self) -> float:
        """GCRA's emission interval: the period shared evenly among the requests, ms."""
        return self.period_seconds * 1000 / self.count

    def __str__(self) -> str:
        return f"{self.count} per {self.period_seconds} s"


@lru_cache(maxsize=4096)
def parse_rate_limit(text: str) -> RateLimit:
    """``"100/minute"`` → ``RateLimit(100, 60)``; ``InvalidInput`` naming the bound it breaks."""
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"a rate limit has at most {MAX_TEXT_LENGTH} characters", FIELD)
    try:
        items = parse_many(text)
    except (ValueError, OverflowError) as exc:
        raise InvalidInput(
            f"unreadable rate limit {text!r}: write e.g. '100/minute'", FIELD
        ) from exc
    if _ZERO_MULTIPLE.search(text):
        raise InvalidInput("a rate limit's window is 1 second to 366 days", FIELD)
    if len(items) != 1:
        raise InvalidInput("a rate limit is exactly one 'N/period', e.g. '100/minute'", FIELD)
    count, period = items[0].amount, items[0].get_expiry()
    if not 1 <= count <= MAX_COUNT:
        raise InvalidInput(f"a rate limit allows 1 to {MAX_COUNT:,} requests per window", FIELD)
    if not MIN_PERIOD_SECONDS <= period <= MAX_PERIOD_SECONDS:
        raise InvalidInput("a rate limit's window is 1 second to 366 days", FIELD)
    return RateLimit(count, period, text.strip())
