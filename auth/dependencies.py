"""FastAPI security dependencies: who is calling, and may they?

A route states its permission in its signature (``principal: RequireAdmin``).
Either credential works: ``Authorization: Bearer <access token>`` or
``X-API-Key: <key>``; both schemes are declared so the OpenAPI document (and
Swagger UI's Authorize dialog) offers both. Failures answer the RFC 6750 way:
401 with a ``Bearer`` challenge when the caller is not authenticated, 403 with
``error="insufficient_scope"`` when it is but lacks a scope.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from auth.context import AuthContext
from auth.principal import SCOPE_ADMIN, SCOPE_PREDICT, Principal

REALM = "housing-api"
API_KEY_HEADER = "X-API-Key"

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/token",
    scheme_name="OAuth2",
    scopes={
        SCOPE_PREDICT: "Call the inference endpoints.",
        SCOPE_ADMIN: "Manage users, API keys and the audit trail; read metrics.",
    },
    description="An access token from POST /token, sent as `Authorization: Bearer <token>`.",
    auto_error=False,
)
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="APIKey",
    description="An API key created by an admin, sent as `X-API-Key: hpk_...`.",
    auto_error=False,
)


def challenge(error: str | None = None, scope: str | None = None) -> str:
    """A ``WWW-Authenticate`` value (RFC 6750 §3)."""
    params = [f'realm="{REALM}"']
    if error is not None:
        params.append(f'error="{error}"')
    if scope is not None:
        params.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(params)


def _unauthorized(detail: str, error: str | None) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": challenge(error)},
    )


def auth_context(request: Request) -> AuthContext:
    context: AuthContext = request.app.state.auth
    return context


AuthContextDep = Annotated[AuthContext, Depends(auth_context)]


PRINCIPAL_STATE = "principal"
"""Where the resolved caller is kept in ``request.state`` for the rest of the request."""


async def _resolve(request: Request, bearer: str | None, api_key: str | None) -> Principal:
    if bearer is None and api_key is None:
        raise _unauthorized("Not authenticated", error=None)
    if bearer is not None and api_key is not None:
        raise _unauthorized("Send a bearer token or an API key, not both", "invalid_request")
    principals = auth_context(request).principals
    if bearer is not None:
        principal = await principals.from_access_token(bearer)
    else:
        principal = await principals.from_api_key(api_key or "")
    if principal is None:
        raise _unauthorized("Invalid, expired or revoked credentials", "invalid_token")
    return principal


async def authenticate(
    request: Request,
    bearer: Annotated[str | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
) -> Principal:
    """The caller, from whichever credential it sent; 401 when there is none that holds.

    Resolved once per request: an ``AuthenticatedRoute`` has already done it.
    """
    principal = getattr(request.state, PRINCIPAL_STATE, None)
    if principal is None:
        principal = await _resolve(request, bearer, api_key)
        setattr(request.state, PRINCIPAL_STATE, principal)
    return principal


class AuthenticatedRoute(APIRoute):
    """A route that authenticates its caller before FastAPI reads and parses the body.

    FastAPI parses a JSON body before it runs any dependency, so without this
    an anonymous caller would learn the schema from 422s (and cost the parse)
    instead of getting the 401 every protected route owes it.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def authenticate_first(request: Request) -> Response:
            bearer = await bearer_scheme(request)
            api_key = await api_key_scheme(request)
            setattr(request.state, PRINCIPAL_STATE, await _resolve(request, bearer, api_key))
            return await handle(request)

        return authenticate_first


Authenticated = Annotated[Principal, Depends(authenticate)]


class Authenticator:
    """Requires an authenticated caller holding every one of ``required_scopes``.

    It depends on ``authenticate`` itself, so however many dependencies of a
    request ask for the caller, FastAPI resolves the credential once.
    """

    def __init__(self, required_scopes: Iterable[str]) -> None:
        self.required_scopes = frozenset(required_scopes)

    async def __call__(self, principal: Authenticated) -> Principal:
        missing = self.required_scopes - principal.scopes
        if missing:
            raise HTTPException(
                status_code=status.HTTP_403_FORBIDDEN,
                detail=f"Missing scope: {' '.join(sorted(missing))}",
                headers={
                    "WWW-Authenticate": challenge(
                        "insufficient_scope", scope=" ".join(sorted(self.required_scopes))
                    )
                },
            )
        return principal


RequirePredict = Annotated[Principal, Depends(Authenticator({SCOPE_PREDICT}))]
RequireAdmin = Annotated[Principal, Depends(Authenticator({SCOPE_ADMIN}))]
