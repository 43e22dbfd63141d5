"""What the credential layer counts, in the process's Prometheus registry.

Defined here, not in ``app``, so ``auth`` stays importable on its own; the
application's ``/metrics`` exposes every registered metric (aggregated over
workers in multiprocess mode).
"""

from __future__ import annotations

from prometheus_client import Counter

STALE_ANSWERS = Counter(
    "auth_cache_stale_answers",
    "Credentials accepted from the in-process cache while the credential store could not "
    "be reached (at most AUTH_CACHE_STALE_SECONDS after the cache was last known complete).",
)
