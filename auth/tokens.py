"""Access tokens: short-lived JWTs (RFC 9068 profile) signed with HMAC.

The algorithm is pinned: decoding accepts exactly the configured one, so a
token cannot pick its own (``none``, or a different HMAC). The ``kid`` header
selects among the configured signing keys; the first key signs, every listed
key verifies, so a key can be rotated out by listing a new one first and
dropping the old one once its tokens have expired.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
ACCESS_JWT_TYP = "at+jwt"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "scope", "iat", "exp", "jti")
DEFAULT_LEEWAY_SECONDS = 10


class InvalidToken(Exception):
    """The token is malformed, forged, expired, or not meant for this service."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    kid: str
    secret: str

    def __post_init__(self) -> None:
        if not self.kid or not self.secret:
            raise ValueError("a signing key needs a non-empty kid and secret")


@dataclass(frozen=True, slots=True)
class AccessTokenClaims:
    subject: str
    scopes: frozenset[str]
    token_id: str
    issued_at: datetime
    expires_at: datetime
    user_id: str | None = None
    """Private claim ``uid``: the user instance (``sub`` names it, this tells it apart)."""
    family_id: str | None = None
    """Claim ``sid``: the refresh family (the login session) the token was issued in."""


@dataclass(frozen=True, slots=True)
class IssuedAccessToken:
    token: str
    claims: AccessTokenClaims
    expires_in: int


def format_scopes(scopes: Iterable[str]) -> str:
    return " ".join(sorted(set(scopes)))


def parse_scopes(scope: str | None) -> frozenset[str]:
    return frozenset(scope.split()) if scope else frozenset()


class AccessTokenCodec:
    """Issues and verifies access tokens for one issuer and audience."""

    def __init__(
        self,
        signing_keys: Sequence[SigningKey | tuple[str, str]],
        *,
        algorithm: str,
        issuer: str,
        audience: str,
        ttl_seconds: int,
        leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
    ) -> None:
        if algorithm not in HMAC_ALGORITHMS:
            raise ValueError(f"algorithm must be one of {sorted(HMAC_ALGORITHMS)}")
        keys = [k if isinstance(k, SigningKey) else SigningKey(*k) for k in signing_keys]
        if not keys:
            raise ValueError("at least one signing key is needed")
        kids = [key.kid for key in keys]
        if len(set(kids)) != len(kids):
            raise ValueError("signing key ids must be unique")
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        self._signing_key = keys[0]
        self._verifying_keys = {key.kid: key.secret for key in keys}
        self._algorithm = algorithm
        self._issuer = issuer
        self._audience = audience
        self._ttl_seconds = ttl_seconds
        self._leeway = leeway_seconds

    @property
    def ttl_seconds(self) -> int:
        return self._ttl_seconds

    def accepted_until(self, claims: AccessTokenClaims) -> datetime:
        """The last moment ``decode`` accepts these claims: ``exp`` plus the leeway.

        A revocation must be remembered at least this long, or the token would
        work again between its expiry and the end of the leeway.
        """
        return claims.expires_at + timedelta(seconds=self._leeway)

    def issue(
        self,
        subject: str,
        scopes: Iterable[str],
        *,
        now: datetime | None = None,
        user_id: str | None = None,
        family_id: str | None = None,
    ) -> IssuedAccessToken:
        issued_at = (now or datetime.now(UTC)).replace(microsecond=0)
        claims = AccessTokenClaims(
            subject=subject,
            scopes=frozenset(scopes),
            token_id=secrets.token_urlsafe(16),
            issued_at=issued_at,
            expires_at=issued_at + timedelta(seconds=self._ttl_seconds),
            user_id=user_id,
            family_id=family_id,
        )
        payload: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": claims.subject,
            "scope": format_scopes(claims.scopes),
            "iat": int(claims.issued_at.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
            "jti": claims.token_id,
        }
        if user_id is not None:
            payload["uid"] = user_id
        if family_id is not None:
            payload["sid"] = family_id
        token = jwt.encode(
            payload,
            self._signing_key.secret,
            algorithm=self._algorithm,
            headers={"kid": self._signing_key.kid, "typ": ACCESS_JWT_TYP},
        )
        return IssuedAccessToken(token=token, claims=claims, expires_in=self._ttl_seconds)

    def decode(self, token: str) -> AccessTokenClaims:
        """Verify everything about ``token``; raise ``InvalidToken`` on any flaw."""
        if not is_canonical_jws(token):
            raise InvalidToken("not a canonical compact JWS")
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            secret = self._verifying_keys.get(kid) if isinstance(kid, str) else None
            if secret is None:
                raise InvalidToken("unknown signing key")
            if header.get("typ") != ACCESS_JWT_TYP:
                raise InvalidToken("not an access token")
            payload = jwt.decode(
                token,
                secret,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS), "strict_aud": True},
            )
        except (jwt.PyJWTError, TypeError) as exc:
            raise InvalidToken(str(exc)) from exc
        claims = _claims_from(payload)
        lifetime = (claims.expires_at - claims.issued_at).total_seconds()
        if lifetime > self._ttl_seconds + self._leeway:
            raise InvalidToken("exp - iat exceeds the access-token lifetime")
        return claims


def is_canonical_jws(token: str) -> bool:
    """Three unpadded base64url segments, each the one encoding of its bytes.

    The last character of a segment can carry bits that decoding drops, so one
    signature has several spellings; only the canonical one is accepted, so a
    token has exactly one form (a mutated token never verifies).
    """
    segments = token.split(".")
    if len(segments) != 3 or not all(segments):
        return False
    for segment in segments:
        if "=" in segment:
            return False
        try:
            raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        except (binascii.Error, ValueError):
            return False
        if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != segment:
            return False
    return True


def _claims_from(payload: dict[str, Any]) -> AccessTokenClaims:
    subject, scope, token_id = payload["sub"], payload["scope"], payload["jti"]
    if not (isinstance(subject, str) and subject):
        raise InvalidToken("sub must be a non-empty string")
    if not isinstance(scope, str):
        raise InvalidToken("scope must be a string")
    if not (isinstance(token_id, str) and token_id):
        raise InvalidToken("jti must be a non-empty string")
    user_id, family_id = payload.get("uid"), payload.get("sid")
    for name, value in (("uid", user_id), ("sid", family_id)):
        if not (value is None or (isinstance(value, str) and value)):
            raise InvalidToken(f"{name} must be a non-empty string")
    iat, exp = payload["iat"], payload["exp"]
    # PyJWT accepts "exp": "1790000000" (it calls int()); a NumericDate is a JSON number.
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in (iat, exp)):
        raise InvalidToken("iat and exp must be integers")
    try:
        issued_at = datetime.fromtimestamp(iat, UTC)
        expires_at = datetime.fromtimestamp(exp, UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise InvalidToken("iat and exp must be timestamps") from exc
    return AccessTokenClaims(
        subject=subject,
        scopes=parse_scopes(scope),
        token_id=token_id,
        issued_at=issued_at,
        expires_at=expires_at,
        user_id=user_id,
        family_id=family_id,
    )
