"""POST /token and POST /token/revoke.

Errors here are RFC 6749 §5.2 bodies (``{"error", "error_description"}``), not
FastAPI's ``{"detail"}``: every form field is optional at the HTTP layer so
that a missing one is an ``invalid_request``, never a 422.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, ClassVar

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse

from app.client_ip import client_ip
from app.ratelimit.dependencies import enforce_anonymous_limit, get_login_throttle
from app.ratelimit.headers import rate_limit_headers
from app.ratelimit.throttle import LOGIN_POLICY, LoginThrottle
from app.tokens.schemas import OAuthErrorBody, TokenResponse
from auth.context import AuthContext
from auth.dependencies import AuthContextDep
from auth.errors import InvalidGrant, OAuthError
from auth.token_service import TokenGrant

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FormField = Annotated[str | None, Form()]
Throttle = Annotated[LoginThrottle, Depends(get_login_throttle)]


class TokenEndpointRefusal(Exception):
    """A limit refused a token-endpoint request; answered the RFC 6749 way, not as ``detail``."""

    CODES: ClassVar[dict[int, str]] = {429: "slow_down", 503: "temporarily_unavailable"}

    def __init__(self, refusal: HTTPException) -> None:
        self.refusal = refusal


async def limit_by_client_ip(request: Request) -> None:
    try:
        await enforce_anonymous_limit(request)
    except HTTPException as exc:
        raise TokenEndpointRefusal(exc) from None


async def _refusal_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TokenEndpointRefusal)
    refusal = exc.refusal
    body = {
        "error": TokenEndpointRefusal.CODES.get(refusal.status_code, "invalid_request"),
        "error_description": str(refusal.detail),
    }
    return JSONResponse(body, refusal.status_code, headers={**NO_STORE, **(refusal.headers or {})})


def install_token_errors(app: FastAPI) -> None:
    app.add_exception_handler(TokenEndpointRefusal, _refusal_handler)


router = APIRouter(tags=["tokens"], dependencies=[Depends(limit_by_client_ip)])


def oauth_error(
    error: OAuthError, status_code: int = 400, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        status_code=status_code,
        content={"error": error.error, "error_description": error.description},
        headers={**NO_STORE, **(headers or {})},
    )


class TooManyAttempts(OAuthError):
    """Too many failed password attempts. ``slow_down`` is the OAuth error registry's
    code for "retry later" (RFC 8628); RFC 6749 §5.2 itself has none for it."""

    error = "slow_down"

    def __init__(self, description: str, headers: dict[str, str]) -> None:
        super().__init__(description)
        self.headers = headers


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
    try:
        if grant_type == "password" and username:
            grant = await _guarded_password_grant(
                request, auth, throttle, username, password, scope
            )
        else:
            grant = await auth.tokens.grant(
                grant_type,
                username=username,
                password=password,
                scope=scope,
                refresh_token=refresh_token,
            )
    except TooManyAttempts as exc:
        return oauth_error(exc, status.HTTP_429_TOO_MANY_REQUESTS, exc.headers)
    except OAuthError as exc:
        return oauth_error(exc)
    return JSONResponse(asdict(grant), headers=NO_STORE)


async def _guarded_password_grant(
    request: Request,
    auth: AuthContext,
    throttle: LoginThrottle,
    username: str,
    password: str | None,
    scope: str | None,
) -> TokenGrant:
    """A password grant under the guessing throttle: only failures count."""
    ip = client_ip(request)
    async with throttle.attempt(ip, username) as decision:
        if not decision.allowed:
            raise TooManyAttempts(
                f"too many failed attempts; retry in {decision.retry_after} s",
                rate_limit_headers(decision, LOGIN_POLICY),
            )
        try:
            return await auth.tokens.grant(
                "password", username=username, password=password, scope=scope
            )
        except InvalidGrant:
            await throttle.record_failure(ip, username)
            raise


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
