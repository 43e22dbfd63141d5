"""Helpers for the rate-limit tests: what is in Redis, settings without a ``.env``."""

from __future__ import annotations

from typing import Any

import redis

from app.ratelimit.limiter import REDIS_KEY_PREFIX
from app.settings import Settings


def redis_keys(url: str) -> list[str]:
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        return sorted(str(key) for key in client.scan_iter(f"{REDIS_KEY_PREFIX}:*"))
    finally:
        client.close()


def make_settings(**overrides: Any) -> Settings:
    """Settings for a test app: nothing read from a developer's ``.env``."""
    return Settings(_env_file=None, **overrides)  # type: ignore[call-arg]
