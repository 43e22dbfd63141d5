"""What every part of the Redis adapter shares: the client, the key layout, the scripts.

The caller owns the ``redis.asyncio`` client (and its timeouts); the adapter
only borrows it. Works whether or not the client decodes responses.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from auth.store.redis.layout import RedisKeys


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def pairs(flat: list[Any]) -> dict[str, str]:
    """A flat ``[field, value, ...]`` reply (``HGETALL`` inside a script) as a dict."""
    items = [text(item) for item in flat]
    return dict(zip(items[::2], items[1::2], strict=True))


def mapping(raw: dict[Any, Any]) -> dict[str, str]:
    return {text(k): text(v) for k, v in raw.items()}


class RedisStoreBase:
    def __init__(self, client: Redis, *, key_prefix: str) -> None:
        self._redis = client
        self._names = RedisKeys(key_prefix)
        self._scripts: dict[str, AsyncScript] = {}

    def _script(self, source: str) -> AsyncScript:
        """The registered script for ``source`` (``EVALSHA``, reloaded after a restart)."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self._redis.register_script(source)
        return script
