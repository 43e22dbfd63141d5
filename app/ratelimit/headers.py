"""Rate-limit response headers: the de facto ``X-RateLimit-*`` trio and the IETF pair.

``X-RateLimit-Limit``      the quota of the window (requests).
``X-RateLimit-Remaining``  requests still allowed now.
``X-RateLimit-Reset``      **epoch seconds** (UTC, rounded up) at which the whole quota
                           is back — the convention of GitHub and slowapi, so existing
                           clients read it unchanged.
``RateLimit-Policy``       ``"<policy>";q=<quota>;w=<window seconds>``
``RateLimit``              ``"<policy>";r=<remaining>;t=<seconds until reset>``

The last two follow the current draft-ietf-httpapi-ratelimit-headers:
Structured Field lists whose items are the policy name as a String with
Integer parameters; ``t`` there is a delta in seconds, not an epoch. A refused
request also gets ``Retry-After`` in seconds (RFC 9110), equal to ``t``. All
of them are derived from the GCRA state the decision read (``decision.py``).
"""

from __future__ import annotations

import math
import re

from app.ratelimit.decision import RateLimitDecision

# Policy names become Structured Field Strings; keep them to characters that
# need no escaping.
_POLICY_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")

STATE_KEY = "rate_limit_headers"
"""Where the request's rate-limit headers wait in the ASGI scope state for the response."""


def rate_limit_headers(decision: RateLimitDecision, policy: str) -> dict[str, str]:
    if not _POLICY_NAME.match(policy):
        raise ValueError(f"policy name must match {_POLICY_NAME.pattern}: {policy!r}")
    limit = decision.limit
    headers = {
        "X-RateLimit-Limit": str(limit.count),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(math.ceil(decision.reset_at)),
        "RateLimit-Policy": f'"{policy}";q={limit.count};w={limit.period_seconds}',
        "RateLimit": f'"{policy}";r={decision.remaining};t={decision.reset_in}',
    }
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after)
    return headers
