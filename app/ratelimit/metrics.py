"""Prometheus counters for the limiter's degraded modes.

Outages are the one time the limiter is not exact, so operators need to see
how many decisions were made without the shared store.
"""

from __future__ import annotations

from prometheus_client import Counter

FALLBACK_DECISIONS = Counter(
    "ratelimit_fallback",
    "Rate-limit decisions made by the in-process fallback because Redis was unavailable.",
)
UNAVAILABLE_REFUSALS = Counter(
    "ratelimit_unavailable",
    "Requests refused with 503 because Redis was unavailable and the policy is fail-closed.",
)
