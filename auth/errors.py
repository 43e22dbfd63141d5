"""Errors the credential services raise, shaped so the HTTP layer maps them mechanically.

``OAuthError`` subclasses carry the RFC 6749 §5.2 ``error`` code: the token
endpoint answers ``400 {"error": exc.error, "error_description": exc.description}``.
``InvalidInput`` is a value an admin supplied that the services refuse.
"""

from __future__ import annotations

from typing import ClassVar


class OAuthError(Exception):
    error: ClassVar[str] = "invalid_request"

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidGrant(OAuthError):
    error = "invalid_grant"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class WrongPassword(Exception):
    """The current password given to change it was not the user's."""


class ScopeCeiling(Exception):
    """A credential tried to grant a scope it does not hold itself (a 403)."""


class InvalidInput(ValueError):
    """An unknown scope, an unparsable rate limit, an unusable username or password.

    ``field`` names the input it is about, when there is one, so the HTTP layer
    can answer in the same shape as a schema refusal.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
