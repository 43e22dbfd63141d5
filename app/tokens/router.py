"""POST /token and POST /token/revoke.

Errors here are RFC 6749 §5.2 bodies (``{"error", "error_description"}``), not
FastAPI's ``{"detail"}``: every form field is optional at the HTTP layer so
that a missing one is an ``invalid_request``, never a 422. They are
``ApiError``s carrying that body, answered by the one handler.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response, status
from fastapi.responses import JSONResponse

from app.client_ip import client_ip
from app.deps import AuthDep, ServicesDep, Throttle
from app.errors import ApiError
from app.ratelimit.decision import RateLimitDecision
from app.ratelimit.headers import STATE_KEY, rate_limit_headers
from app.ratelimit.keys import ip_bucket
from app.ratelimit.limiter import LimiterUnavailable
from app.ratelimit.throttle import LOGIN_POLICY
from app.tokens.schemas import OAuthErrorBody, TokenResponse
from auth.context import AuthContext
from auth.errors import InvalidGrant, OAuthError
from auth.token_service import TokenGrant

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
ANONYMOUS_POLICY = "anonymous"
"""Unauthenticated endpoints, per client address (IPv6 per /64)."""
FormField = Annotated[str | None, Form()]


def oauth_error(
    error: str, description: str, status_code: int = 400, headers: dict[str, str] | None = None
) -> ApiError:
    return ApiError(
        status_code,
        description,
        {**NO_STORE, **(headers or {})},
        body={"error": error, "error_description": description},
    )


def _refused(decision: RateLimitDecision, policy: str, what: str) -> ApiError:
    # ``slow_down`` is the OAuth error registry's code for "retry later" (RFC 8628);
    # RFC 6749 §5.2 itself has none for it.
    return oauth_error(
        "slow_down",
        f"{what}; retry in {decision.retry_after} s",
        status.HTTP_429_TOO_MANY_REQUESTS,
        rate_limit_headers(decision, policy),
    )


async def limit_by_client_ip(request: Request, services: ServicesDep) -> None:
    """Count the request against the client's address; refuse the RFC 6749 way."""
    key = f"anonymous:{ip_bucket(client_ip(request))}"
    try:
        decision = await services.limiter.hit(services.settings.anonymous_rate_limit, key)
    except LimiterUnavailable:
        raise oauth_error(
            "temporarily_unavailable", "rate limiter unavailable", 503, {"Retry-After": "1"}
        ) from None
    if not decision.allowed:
        raise _refused(decision, ANONYMOUS_POLICY, f"rate limit exceeded: {decision.limit}")
    request.scope.setdefault("state", {})[STATE_KEY] = rate_limit_headers(
        decision, ANONYMOUS_POLICY
    )


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def form_encoded(request: Request) -> None:
    """RFC 6749 §3.2: token endpoint parameters are form-encoded; say so instead of guessing."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORM_TYPES and request.headers.get("content-length", "0") != "0":
        raise oauth_error(
            "invalid_request",
            "the body must be form-encoded (application/x-www-form-urlencoded), not "
            f"{content_type or 'untyped'}",
        )


OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": OAuthErrorBody, "description": "RFC 6749 §5.2 error"},
    429: {"model": OAuthErrorBody, "description": "Too many requests or failed attempts"},
    503: {"model": OAuthErrorBody, "description": "A backing store is unavailable"},
}
"""What both endpoints can answer: the address's limit and the form check run before either."""

router = APIRouter(
    tags=["tokens"],
    dependencies=[Depends(limit_by_client_ip), Depends(form_encoded)],
    responses=OAUTH_ERRORS,
)


@router.post(
    "/token",
    summary="Issue an access token (password or refresh_token grant)",
    response_model=TokenResponse,
)
async def issue_token(
    request: Request,
    auth: AuthDep,
    throttle: Throttle,
    grant_type: FormField = None,
    username: FormField = None,
    password: FormField = None,
    scope: FormField = None,
    refresh_token: FormField = None,
) -> JSONResponse:
    try:
        if grant_type == "password" and username:
            async with throttle.attempt(client_ip(request), username) as decision:
                if not decision.allowed:
                    raise _refused(decision, LOGIN_POLICY, "too many failed attempts")
                grant = await _password_grant(request, auth, throttle, username, password, scope)
        else:
            grant = await auth.tokens.grant(
                grant_type,
                username=username,
                password=password,
                scope=scope,
                refresh_token=refresh_token,
            )
    except OAuthError as exc:
        raise oauth_error(exc.error, exc.description) from None
    return JSONResponse(asdict(grant), headers=NO_STORE)


async def _password_grant(
    request: Request,
    auth: AuthContext,
    throttle: Throttle,
    username: str,
    password: str | None,
    scope: str | None,
) -> TokenGrant:
    """A password grant whose failures count against the guessing throttle."""
    try:
        return await auth.tokens.grant(
            "password", username=username, password=password, scope=scope
        )
    except InvalidGrant:
        await throttle.record_failure(client_ip(request), username)
        raise


@router.post(
    "/token/revoke",
    summary="Revoke an access or refresh token (RFC 7009)",
    response_class=Response,
    responses={200: {"description": "Revoked, or was never valid (nothing to revoke); no body"}},
)
async def revoke_token(
    auth: AuthDep, token: FormField = None, token_type_hint: FormField = None
) -> Response:
    """200 for any token, known or not (RFC 7009 §2.2); 400 when none is sent."""
    if not token:
        raise oauth_error("invalid_request", "the token to revoke is missing")
    await auth.tokens.revoke(token, token_type_hint)
    return Response(status_code=status.HTTP_200_OK, headers=NO_STORE)
