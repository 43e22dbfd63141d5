"""Who is calling: the one object every protected route receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["user", "key"]

SCOPE_PREDICT = "predict"
SCOPE_ADMIN = "admin"
SCOPE_METRICS = "metrics"
"""Reads /metrics and nothing else, so a Prometheus scraper holds no admin power."""
KNOWN_SCOPES = frozenset({SCOPE_PREDICT, SCOPE_ADMIN, SCOPE_METRICS})
IMPLIED_SCOPES = {SCOPE_ADMIN: frozenset({SCOPE_METRICS})}
"""What holding a scope also allows: an admin may read /metrics, so may hand that on."""


def with_implied(scopes: frozenset[str]) -> frozenset[str]:
    """``scopes`` and every scope they imply."""
    implied = [IMPLIED_SCOPES.get(scope, frozenset()) for scope in scopes]
    return scopes.union(*implied)


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    """The username for a token client, the key id for a key client."""
    kind: PrincipalKind
    scopes: frozenset[str]
    rate_limit: str | None = None
    """The key's own limit; ``None`` means the configured default."""
    token_id: str | None = None
    """The access token's ``jti``, for token clients."""
    family_id: str | None = None
    """The login session (refresh family, claim ``sid``) of a token client."""
    user_id: str | None = None
    """The user instance acting (``UserRecord.user_id``): the token's user, or the user
    owning the key; ``None`` for a key no user owns. What it creates, it owns."""

    @property
    def rate_limit_key(self) -> str:
        return f"{self.kind}:{self.subject}"
