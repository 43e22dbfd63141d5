"""How a caller presents a credential, and how a refusal is worded (RFC 6750).

Either credential works: ``Authorization: Bearer <access token>`` or
``X-API-Key: <key>``. Both schemes are declared here so the OpenAPI document
(and Swagger UI's Authorize dialog) offers both; the application's
dependencies (``app.deps``) use them and decide. Failures answer the RFC 6750
way: 401 with a ``Bearer`` challenge when the caller is not authenticated, 403
with ``error="insufficient_scope"`` when it is but lacks a scope.

Credentials are read in canonical form only: the ``Bearer`` scheme (any case,
RFC 9110), exactly one space, then a compact JWS of three unpadded base64url
segments. Two spaces, a tab, a trailing ``=`` or anything else is refused
rather than repaired, so no two spellings of one token exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from auth.principal import KNOWN_SCOPES

REALM = "housing-api"
API_KEY_HEADER = "X-API-Key"
MAX_CREDENTIAL_LENGTH = 4096

_BEARER = re.compile(r"[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")

SCOPE_DESCRIPTIONS = {
    "predict": "Call every inference endpoint.",
    "predict:v1": "Call the v1 inference endpoints only.",
    "predict:v2": "Call the v2 inference endpoints only.",
    "metrics": "Read /metrics and nothing else.",
    "introspect": "Call /token/introspect.",
    "admin": "Manage users, API keys and the audit trail; read metrics.",
}

bearer_scheme = OAuth2PasswordBearer(
    tokenUrl="/token",
    scheme_name="OAuth2",
    scopes={scope: SCOPE_DESCRIPTIONS.get(scope, scope) for scope in sorted(KNOWN_SCOPES)},
    description="An access token from POST /token, sent as `Authorization: Bearer <token>`.",
    auto_error=False,
)
api_key_scheme = APIKeyHeader(
    name=API_KEY_HEADER,
    scheme_name="APIKey",
    description="An API key created by an admin, sent as `X-API-Key: hpk_...`.",
    auto_error=False,
)


class Unauthenticated(Exception):
    """No credential, or one that does not hold: a 401 with a challenge."""

    def __init__(self, description: str, error: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.error = error


@dataclass(frozen=True, slots=True)
class PresentedCredential:
    bearer: str | None = None
    api_key: str | None = None


def challenge(error: str | None = None, scope: str | None = None) -> str:
    """A ``WWW-Authenticate`` value (RFC 6750 §3)."""
    params = [f'realm="{REALM}"']
    if error is not None:
        params.append(f'error="{error}"')
    if scope is not None:
        params.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(params)


def parse_bearer(header: str) -> str | None:
    """The token of a canonical ``Bearer <jwt>`` header; ``None`` for another scheme.

    A ``Bearer`` header in any other form is refused as an invalid token.
    """
    if header[:6].lower() != "bearer":
        return None
    match = _BEARER.fullmatch(header) if len(header) <= MAX_CREDENTIAL_LENGTH else None
    if match is None:
        raise Unauthenticated("Invalid, expired or revoked credentials", "invalid_token")
    return match.group(1)


def presented_credential(request: Request) -> PresentedCredential:
    """The one credential the request carries; ``Unauthenticated`` for none, both or a bad one."""
    authorization = request.headers.get("authorization")
    bearer = parse_bearer(authorization) if authorization is not None else None
    api_key = request.headers.get(API_KEY_HEADER)
    if bearer is None and api_key is None:
        raise Unauthenticated("Not authenticated")
    if bearer is not None and api_key is not None:
        raise Unauthenticated("Send a bearer token or an API key, not both", "invalid_request")
    if bearer is not None:
        return PresentedCredential(bearer=bearer)
    assert api_key is not None
    if len(api_key) > MAX_CREDENTIAL_LENGTH:
        raise Unauthenticated("malformed X-API-Key header", "invalid_request")
    return PresentedCredential(api_key=api_key)
