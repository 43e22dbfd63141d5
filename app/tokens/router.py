"""POST /token and POST /token/revoke.

Errors here are RFC 6749 §5.2 bodies (``{"error", "error_description"}``), not
FastAPI's ``{"detail"}``: every form field is optional at the HTTP layer so
that a missing one is an ``invalid_request``, never a 422.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response, status
from fastapi.responses import JSONResponse

from app.client_ip import client_ip
from app.ratelimit.dependencies import enforce_anonymous_limit, get_login_throttle
from app.ratelimit.headers import rate_limit_headers
from app.ratelimit.throttle import LOGIN_POLICY, LoginThrottle
from app.tokens.schemas import OAuthErrorBody, TokenResponse
from auth.dependencies import AuthContextDep
from auth.errors import InvalidGrant, OAuthError

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FormField = Annotated[str | None, Form()]
Throttle = Annotated[LoginThrottle, Depends(get_login_throttle)]

router = APIRouter(tags=["tokens"], dependencies=[Depends(enforce_anonymous_limit)])


def oauth_error(
    error: OAuthError, status_code: int = 400, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status_code,
        content={"error": error.error, "error_description": error.description},
        headers={**NO_STORE, **(headers or {})},
    )


class TooManyAttempts(OAuthError):
    error = "slow_down"


@router.post(
    "/token",
    summary="Issue an access token (password or refresh_token grant)",
    response_model=TokenResponse,
    responses={
        400: {"model": OAuthErrorBody, "description": "RFC 6749 §5.2 error"},
        429: {"model": OAuthErrorBody, "description": "Too many failed attempts"},
    },
)
async def issue_token(
    request: Request,
    auth: AuthContextDep,
    throttle: Throttle,
    grant_type: FormField = None,
    username: FormField = None,
    password: FormField = None,
    scope: FormField = None,
    refresh_token: FormField = None,
) -> JSONResponse:
    guarded = grant_type == "password" and bool(username)
    ip = client_ip(request)
    if guarded:
        decision = await throttle.check(ip, username or "")
        if not decision.allowed:
            description = f"too many failed attempts; retry in {decision.retry_after} s"
            return oauth_error(
                TooManyAttempts(description),
                status.HTTP_429_TOO_MANY_REQUESTS,
                rate_limit_headers(decision, LOGIN_POLICY),
            )
    try:
        grant = await auth.tokens.grant(
            grant_type,
            username=username,
            password=password,
            scope=scope,
            refresh_token=refresh_token,
        )
    except InvalidGrant as exc:
        if guarded:
            await throttle.record_failure(ip, username or "")
        return oauth_error(exc)
    except OAuthError as exc:
        return oauth_error(exc)
    return JSONResponse(asdict(grant), headers=NO_STORE)


@router.post(
    "/token/revoke",
    summary="Revoke an access or refresh token (RFC 7009)",
    responses={200: {"description": "Revoked, or was never valid (nothing to revoke)"}},
)
async def revoke_token(
    auth: AuthContextDep, token: FormField = None, token_type_hint: FormField = None
) -> Response:
    """Always 200 (RFC 7009 §2.2): the answer never tells whether a token was valid."""
    if token:
        await auth.tokens.revoke(token, token_type_hint)
    return Response(status_code=status.HTTP_200_OK, headers=NO_STORE)
