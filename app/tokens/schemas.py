"""Wire types of the token endpoints, for the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel


class TokenResponse(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    refresh_token: str
    scope: str


class OAuthErrorBody(BaseModel):
    error: str
    error_description: str
