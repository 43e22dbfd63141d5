"""The limiter as FastAPI dependencies, and the 429 and 503 answers.

The limiter and the settings come from ``request.app.state.limiter`` and
``request.app.state.settings``, both set up by the app's lifespan.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse

from app.client_ip import client_ip
from app.ratelimit.decision import InvalidLimit, RateLimitDecision, parse_limit
from app.ratelimit.headers import STATE_KEY, rate_limit_headers
from app.ratelimit.keys import ip_bucket
from app.ratelimit.limiter import Limiter, LimiterUnavailable
from app.ratelimit.throttle import LoginThrottle
from app.settings import Settings
from auth.dependencies import authenticate
from auth.principal import Principal

logger = logging.getLogger(__name__)

DEFAULT_POLICY = "default"
"""Clients on the configured default limit (token users, keys without their own)."""
KEY_POLICY = "key"
"""API keys with their own limit."""
ANONYMOUS_POLICY = "anonymous"
"""Unauthenticated endpoints, per client address."""

UNAVAILABLE_DETAIL = "rate limiter unavailable"
UNAVAILABLE_RETRY_AFTER_SECONDS = 1


def rate_limit_exceeded(decision: RateLimitDecision, policy: str) -> HTTPException:
    """The 429 for a refused decision: which limit, when to retry, every header."""
    return HTTPException(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        detail=f"rate limit exceeded: {decision.limit}",
        headers=rate_limit_headers(decision, policy),
    )


def limiter_unavailable() -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        detail=UNAVAILABLE_DETAIL,
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)},
    )


async def _limiter_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": UNAVAILABLE_DETAIL},
        headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER_SECONDS)},
    )


def install_rate_limit_errors(app: FastAPI) -> None:
    """Answer 503 wherever ``LimiterUnavailable`` escapes (e.g. the login throttle)."""
    app.add_exception_handler(LimiterUnavailable, _limiter_unavailable_handler)


def get_limiter(request: Request) -> Limiter:
    limiter: Limiter = request.app.state.limiter
    return limiter


def get_login_throttle(request: Request) -> LoginThrottle:
    throttle: LoginThrottle = request.app.state.login_throttle
    return throttle


async def _enforce(request: Request, limit: str, key: str, policy: str) -> None:
    """Count one hit; refuse with 429, or leave the headers for ``RateLimitHeadersMiddleware``."""
    try:
        decision = await get_limiter(request).hit(limit, key)
    except LimiterUnavailable:
        raise limiter_unavailable() from None
    if not decision.allowed:
        raise rate_limit_exceeded(decision, policy)
    setattr(request.state, STATE_KEY, rate_limit_headers(decision, policy))


def _client_limit(principal: Principal, settings: Settings) -> tuple[str, str]:
    if principal.rate_limit is None:
        return settings.default_rate_limit, DEFAULT_POLICY
    try:
        parse_limit(principal.rate_limit)
    except InvalidLimit:
        # Stored limits are validated on the way in; one that is not must not lock the client out.
        logger.error("unparseable rate limit for %s, using the default", principal.rate_limit_key)
        return settings.default_rate_limit, DEFAULT_POLICY
    return principal.rate_limit, KEY_POLICY


async def enforce_client_limit(
    request: Request, principal: Annotated[Principal, Depends(authenticate)]
) -> Principal:
    """Count the request against its client: the API key's id, or the user."""
    settings: Settings = request.app.state.settings
    limit, policy = _client_limit(principal, settings)
    await _enforce(request, limit, principal.rate_limit_key, policy)
    return principal


async def enforce_anonymous_limit(request: Request) -> None:
    """Count the request against the client's address (IPv6 per /64)."""
    settings: Settings = request.app.state.settings
    key = f"anonymous:{ip_bucket(client_ip(request))}"
    await _enforce(request, settings.anonymous_rate_limit, key, ANONYMOUS_POLICY)
