"""The one settings class, read from the environment and ``.env``."""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from auth.errors import InvalidInput
from auth.password_policy import check_new_password
from auth.rate_limits import parse_rate_limit

MIN_SECRET_LENGTH = 32
UNIX_SOCKET_PEER = "unix"
"""In ``TRUSTED_PROXIES``: a peer connected over a unix socket (nginx, in ``make stack``)."""
PLACEHOLDER_SECRETS = frozenset({"changeme", "change-me", "changethis", "secret", "password"})


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    env: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    state_dir: Path = Path("var")
    models_dir: Path = Path("models")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "text": readable lines; "json": one JSON object per line; "auto": JSON in production.
    log_format: Literal["auto", "text", "json"] = "auto"

    # Prediction log: every prediction, written off the request path through a
    # bounded queue (full: dropped and counted, never blocking a request); a
    # capped Redis stream per version with REDIS_URL, else SQLite under STATE_DIR.
    prediction_log_queue_size: int = Field(10_000, ge=1, le=1_000_000)
    # Entries kept per version: one per request, a batch cut into entries of at
    # most 100 rows (so between N and 100 N rows are kept).
    # At 20,000 entries a bench of 1,000-row batches left a 141 MB stream (v2);
    # 5,000 keep at most a quarter of that, and still 5,000 to 500,000 rows.
    prediction_log_max_entries: int = Field(5_000, ge=100, le=1_000_000)
    # Drift: how many of the newest logged predictions /metrics compares with
    # the training distribution (GET /admin/drift takes its own window).
    drift_window: int = Field(1_000, ge=10, le=100_000)
    # How often each worker looks for a `housing-api reload` request.
    model_reload_poll_seconds: float = Field(1.0, gt=0, le=60)
    # Largest request body accepted, bytes: the largest legal batch (1000 v2
    # instances, ~272 KiB even indented) with margin; nginx's cap is the same.
    max_request_body_bytes: int = Field(384 * 1024, ge=1024, le=16 * 1024 * 1024)

    # The embedded server closes a connection that has not finished its request headers
    # this long after opening (or after its previous answer): no slowloris.
    header_timeout_seconds: float = Field(10.0, gt=0, le=300)

    # Interactive docs (/docs, /redoc, /openapi.json): on by default outside production.
    docs_enabled: bool | None = None

    # Shared state. Unset: SQLite under STATE_DIR and in-process limits (one host).
    redis_url: str | None = None
    redis_timeout_seconds: float = Field(0.5, gt=0, le=10)

    # Tokens. JWT_SIGNING_KEYS is "kid:secret,kid:secret"; the first signs, all verify.
    jwt_signing_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "housing-api"
    jwt_audience: str = "housing-api"
    access_token_ttl_seconds: int = Field(900, ge=60, le=86_400)
    refresh_token_ttl_seconds: int = Field(14 * 86_400, ge=3600, le=90 * 86_400)
    # A login's absolute lifetime: refreshing slides no further, the user logs in again.
    refresh_family_max_seconds: int = Field(30 * 86_400, ge=3600, le=365 * 86_400)

    # During a store outage, a credential checked in the last seconds before it may keep
    # working this long from the in-process cache (0: refuse at once).
    auth_cache_stale_seconds: float = Field(5.0, ge=0, le=60)

    # API keys are stored as HMAC-SHA256(pepper, key).
    api_key_pepper: SecretStr | None = None
    # Rotation: "id:secret,id:secret"; the first digests new keys, every one verifies
    # (docs/security-rotation.md). API_KEY_PEPPER, if also set, verifies untagged digests.
    api_key_peppers: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

    # New passwords: at least this many characters (NIST SP 800-63B-4: 15 for a single factor).
    password_min_length: int = Field(15, ge=8, le=64)

    # First admin, created when no user exists yet.
    first_admin_username: str | None = None
    first_admin_password: SecretStr | None = None

    # Rate limits ("N/second|minute|hour|day"; 1 to 10,000,000 per 1 s to 366 days), GCRA.
    default_rate_limit: str = "100/minute"
    anonymous_rate_limit: str = "60/minute"
    # Failed password attempts, per (client address, username) and per username alone.
    login_failure_limit: str = "10/minute"
    login_username_failure_limit: str = "100/hour"
    # Failed authentications (401s and failed logins) per client address.
    auth_failure_limit: str = "30/minute"
    rate_limit_outage_policy: Literal["fail-open", "fail-closed"] = "fail-open"

    # Peers whose X-Forwarded-For is believed: addresses, CIDR networks, or
    # "unix" for a peer on a unix socket that only the proxy can open.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @property
    def log_style(self) -> Literal["text", "json"]:
        """``LOG_FORMAT`` with ``auto`` resolved: JSON in production, readable text elsewhere."""
        if self.log_format == "auto":
            return "json" if self.env == "production" else "text"
        return self.log_format

    @field_validator("jwt_signing_keys", "api_key_peppers", "trusted_proxies", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator(
        "default_rate_limit",
        "anonymous_rate_limit",
        "login_failure_limit",
        "login_username_failure_limit",
        "auth_failure_limit",
    )
    @classmethod
    def _bounded_limit(cls, value: str) -> str:
        try:
            parse_rate_limit(value)
        except InvalidInput as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            if item != UNIX_SOCKET_PEER:
                ipaddress.ip_network(item, strict=False)
        return value

    @field_validator("jwt_signing_keys", "api_key_peppers")
    @classmethod
    def _kid_and_secret(cls, value: list[SecretStr]) -> list[SecretStr]:
        for item in value:
            kid, sep, secret = item.get_secret_value().partition(":")
            if not (sep and kid and secret):
                raise ValueError("JWT_SIGNING_KEYS entries must look like 'kid:secret'")
        return value

    @model_validator(mode="after")
    def _production_refuses_weak_secrets(self) -> Settings:
        if self.env != "production":
            return self
        problems: list[str] = []
        if not self.jwt_signing_keys:
            problems.append("JWT_SIGNING_KEYS is missing")
        for kid, secret in self.signing_keys:
            if _weak(secret, MIN_SECRET_LENGTH):
                problems.append(
                    f"JWT signing key {kid!r} is weak "
                    f"(at least {MIN_SECRET_LENGTH} random characters)"
                )
        if not self.peppers or any(_weak(p, MIN_SECRET_LENGTH) for _, p in self.peppers):
            problems.append(
                "API_KEY_PEPPER(S) is missing or weak "
                f"(each at least {MIN_SECRET_LENGTH} random characters)"
            )
        if self.first_admin_password is not None:
            try:
                check_new_password(
                    self.first_admin_password.get_secret_value(),
                    min_length=self.password_min_length,
                    username=self.first_admin_username,
                )
            except InvalidInput as exc:
                problems.append(f"FIRST_ADMIN_PASSWORD is weak ({exc})")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def serves_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else self.env != "production"

    @cached_property
    def peppers(self) -> list[tuple[str, str]]:
        """(id, pepper) pairs, the one for new keys first; API_KEY_PEPPER is id ""."""
        pairs = [item.get_secret_value().partition(":")[::2] for item in self.api_key_peppers]
        if self.api_key_pepper is not None:
            pairs.append(("", self.api_key_pepper.get_secret_value()))
        return pairs

    @cached_property
    def signing_keys(self) -> list[tuple[str, str]]:
        """(kid, secret) pairs, the signing key first."""
        pairs = []
        for item in self.jwt_signing_keys:
            kid, _, secret = item.get_secret_value().partition(":")
            pairs.append((kid, secret))
        return pairs


def _weak(secret: str, min_length: int) -> bool:
    lowered = secret.lower()
    return (
        len(secret) < min_length
        or lowered in PLACEHOLDER_SECRETS
        or any(lowered.startswith(p) for p in PLACEHOLDER_SECRETS)
        or len(set(secret)) < 8
    )
