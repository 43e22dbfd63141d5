"""Who is calling, and may they call now: the one step before a protected route reads its body.

For every request to a protected route, in this order:

1. an address that used up its failed-authentication budget gets 429 before
   any credential is looked at;
2. the credential is resolved (``auth.principals``: an in-process cache,
   invalidated on every worker when a credential is revoked) — none, or one
   that does not hold, is a 401 with a challenge, counted against the address;
3. the caller's rate limit takes one GCRA step (one Redis round trip) — 429
   with ``Retry-After`` when refused; the headers wait in the scope state for
   the response, whatever it turns out to be.

Only then does FastAPI read and validate the body and run the route's
dependencies (403 for a missing scope, 422 for a bad body). Doing this in the
route class rather than in a dependency means an anonymous caller never
learns the schema from 422s, and never costs the parse.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from app.client_ip import client_ip
from app.deps import services_of
from app.errors import ApiError, unavailable
from app.middleware.edge import PRINCIPAL_STATE
from app.ratelimit.decision import RateLimitDecision
from app.ratelimit.failures import POLICY as FAILURE_POLICY
from app.ratelimit.headers import STATE_KEY, rate_limit_headers
from app.ratelimit.limiter import LimiterUnavailable
from app.services import Services
from auth.dependencies import Unauthenticated, challenge, presented_credential
from auth.errors import InvalidInput
from auth.principal import Principal
from auth.rate_limits import RateLimit, parse_rate_limit

logger = logging.getLogger(__name__)

DEFAULT_POLICY = "default"
"""Clients on the configured default limit (token users, keys without their own)."""
KEY_POLICY = "key"
"""API keys with their own limit."""


def rate_limit_exceeded(decision: RateLimitDecision, policy: str) -> ApiError:
    """The 429 for a refused decision: which limit, when to retry, every header."""
    return ApiError(
        429, f"rate limit exceeded: {decision.limit}", rate_limit_headers(decision, policy)
    )


def _client_limit(principal: Principal, services: Services) -> tuple[RateLimit, str]:
    default = parse_rate_limit(services.settings.default_rate_limit)
    if principal.rate_limit is None:
        return default, DEFAULT_POLICY
    try:
        return parse_rate_limit(principal.rate_limit), KEY_POLICY
    except InvalidInput:
        # Limits are validated on the way in; one stored before the bounds existed
        # must not lock its client out.
        logger.error("unusable rate limit for %s, using the default", principal.rate_limit_key)
        return default, DEFAULT_POLICY


async def _authenticate(request: Request, services: Services) -> Principal:
    address = client_ip(request)
    blocked = services.auth_failures.blocked(address)
    if blocked is not None:
        raise rate_limit_exceeded(blocked, FAILURE_POLICY)
    try:
        credential = presented_credential(request)
        principals = services.auth.principals
        if credential.bearer is not None:
            principal = await principals.from_access_token(credential.bearer)
        else:
            principal = await principals.from_api_key(credential.api_key or "")
        if principal is None:
            raise Unauthenticated("Invalid, expired or revoked credentials", "invalid_token")
    except Unauthenticated as refusal:
        decision = await services.auth_failures.record_failure(address)
        if not decision.allowed:
            raise rate_limit_exceeded(decision, FAILURE_POLICY) from None
        raise ApiError(
            401, refusal.description, {"WWW-Authenticate": challenge(refusal.error)}
        ) from None
    return principal


async def guard(request: Request) -> Principal:
    """Authenticate the caller and take its rate-limit step; raise the refusal otherwise."""
    services = services_of(request)
    try:
        principal = await _authenticate(request, services)
        limit, policy = _client_limit(principal, services)
        decision = await services.limiter.hit(limit, principal.rate_limit_key)
    except LimiterUnavailable:
        raise unavailable("rate limiter") from None
    if not decision.allowed:
        raise rate_limit_exceeded(decision, policy)
    request.scope.setdefault("state", {})[STATE_KEY] = rate_limit_headers(decision, policy)
    setattr(request.state, PRINCIPAL_STATE, principal)
    return principal


class GuardedRoute(APIRoute):
    """A route that runs ``guard`` before FastAPI reads and parses the body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            await guard(request)
            return await handle(request)

        return guarded
