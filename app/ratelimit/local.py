"""In-process GCRA buckets: the embedded default's limiter and the fail-open fallback.

One float per client (its theoretical arrival time) in a dict; buckets whose
TAT has passed hold no quota anyone is using and are dropped in a sweep every
``SWEEP_EVERY`` decisions, so memory follows the clients active in the last
window, not the traffic.
"""

from __future__ import annotations

import time

from app.ratelimit import gcra
from app.ratelimit.decision import RateLimitDecision
from auth.rate_limits import RateLimit

SWEEP_EVERY = 10_000


class LocalBuckets:
    def __init__(self) -> None:
        self._tat: dict[str, float] = {}
        self._since_sweep = 0

    def decide(self, limit: RateLimit, key: str, *, consume: bool) -> RateLimitDecision:
        now = time.time() * 1_000_000
        interval = limit.interval_ms * 1000
        step = gcra.step(self._tat.get(key, 0.0), now, interval, limit.period_seconds * 1_000_000)
        if step.admitted and consume:
            self._tat[key] = now + step.ahead_us + interval
            self._sweep(now)
        elif step.clamped:
            self._tat[key] = now + step.ahead_us
        return RateLimitDecision.from_step(limit, step, consumed=consume)

    def __len__(self) -> int:
        return len(self._tat)

    def _sweep(self, now: float) -> None:
        self._since_sweep += 1
        if self._since_sweep < SWEEP_EVERY:
            return
        self._since_sweep = 0
        self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
