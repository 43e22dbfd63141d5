"""Rate limiting: per-client limits on Redis (or in-process), headers, login throttle."""

from app.ratelimit.decision import InvalidLimit, RateLimitDecision, parse_limit
from app.ratelimit.headers import RateLimitHeadersMiddleware, rate_limit_headers
from app.ratelimit.limiter import Limiter, LimiterUnavailable
from app.ratelimit.throttle import LOGIN_POLICY, LoginThrottle

__all__ = [
    "LOGIN_POLICY",
    "InvalidLimit",
    "Limiter",
    "LimiterUnavailable",
    "LoginThrottle",
    "RateLimitDecision",
    "RateLimitHeadersMiddleware",
    "parse_limit",
    "rate_limit_headers",
]
