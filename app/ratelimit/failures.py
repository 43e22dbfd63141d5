"""Failed authentications count against the client's address, so credentials cannot be guessed
at wire speed.

Counting costs nothing on the path of a caller that authenticates: only a
failure (a 401) spends a Redis round trip. Once an address has used up its
budget, the worker remembers the refusal until its ``Retry-After`` runs out and
refuses that address before looking at any credential, so a guess that happens
to be right is not let through either; another worker learns it on its own
first failure from that address (one more evaluation per worker at most).
"""

from __future__ import annotations

import time

from app.ratelimit.decision import RateLimitDecision
from app.ratelimit.keys import ip_bucket
from app.ratelimit.limiter import Limiter
from auth.rate_limits import RateLimit

POLICY = "auth-failures"
MAX_REMEMBERED = 100_000


class AuthFailureGuard:
    def __init__(self, limiter: Limiter, limit: RateLimit) -> None:
        self._limiter = limiter
        self._limit = limit
        self._blocked: dict[str, tuple[float, RateLimitDecision]] = {}

    def blocked(self, address: str) -> RateLimitDecision | None:
        """The refusal still in force for ``address`` in this worker, if any."""
        bucket = ip_bucket(address)
        entry = self._blocked.get(bucket)
        if entry is None:
            return None
        until, decision = entry
        if time.monotonic() >= until:
            del self._blocked[bucket]
            return None
        return decision

    async def record_failure(self, address: str) -> RateLimitDecision:
        bucket = ip_bucket(address)
        decision = await self._limiter.hit(self._limit, f"auth-failure:{bucket}")
        if not decision.allowed:
            if len(self._blocked) >= MAX_REMEMBERED:
                self._blocked.clear()
            self._blocked[bucket] = (time.monotonic() + decision.retry_after, decision)
        return decision
