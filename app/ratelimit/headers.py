"""Rate-limit response headers: the de facto ``X-RateLimit-*`` trio and the IETF pair.

``X-RateLimit-Limit``      the quota of the window (requests).
``X-RateLimit-Remaining``  requests still allowed now.
``X-RateLimit-Reset``      **epoch seconds** (UTC, rounded up) at which quota starts
                           coming back — the convention of GitHub and slowapi, so
                           existing clients read it unchanged.
``RateLimit-Policy``       ``"<policy>";q=<quota>;w=<window seconds>``
``RateLimit``              ``"<policy>";r=<remaining>;t=<seconds until reset>``

The last two follow the current draft-ietf-httpapi-ratelimit-headers:
Structured Field lists whose items are the policy name as a String with
Integer parameters; ``t`` there is a delta in seconds, not an epoch. A refused
request also gets ``Retry-After`` in seconds (RFC 9110), equal to ``t``.
"""

from __future__ import annotations

import math
import re
import time

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Scope

from app.middleware.response_start import ResponseStartMiddleware
from app.ratelimit.decision import RateLimitDecision

# Policy names become Structured Field Strings; keep them to characters that
# need no escaping.
_POLICY_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


def rate_limit_headers(
    decision: RateLimitDecision, policy: str, now: float | None = None
) -> dict[str, str]:
    if not _POLICY_NAME.match(policy):
        raise ValueError(f"policy name must match {_POLICY_NAME.pattern}: {policy!r}")
    now = time.time() if now is None else now
    reset_in = (
        decision.retry_after if not decision.allowed else max(0, math.ceil(decision.reset_at - now))
    )
    headers = {
        "X-RateLimit-Limit": str(decision.limit.amount),
        "X-RateLimit-Remaining": str(decision.remaining),
        "X-RateLimit-Reset": str(math.ceil(decision.reset_at)),
        "RateLimit-Policy": (
            f'"{policy}";q={decision.limit.amount};w={decision.limit.get_expiry()}'
        ),
        "RateLimit": f'"{policy}";r={decision.remaining};t={reset_in}',
    }
    if not decision.allowed:
        headers["Retry-After"] = str(decision.retry_after)
    return headers


STATE_KEY = "rate_limit_headers"
"""Where a rate-limit dependency leaves its headers in the request state."""


class RateLimitHeadersMiddleware(ResponseStartMiddleware):
    """Puts the request's rate-limit headers on whatever response it ends with.

    The one place they are added: headers set on FastAPI's injected
    ``Response`` survive only when the route returns plain data, not a route's
    own ``Response`` (a 204) nor a raised 404 or 422. A response that already
    carries them (a 429) keeps its own.
    """

    def on_response_start(self, scope: Scope, message: Message) -> None:
        pending = scope.get("state", {}).get(STATE_KEY)
        if isinstance(pending, dict):
            headers = MutableHeaders(scope=message)
            for name, value in pending.items():
                headers.setdefault(name, value)
