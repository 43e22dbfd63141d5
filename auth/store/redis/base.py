"""What every part of the Redis adapter shares: the client, the key layout, the scripts.

The caller owns the ``redis.asyncio`` client (and its timeouts); the adapter
only borrows it. Works whether or not the client decodes responses.

A script that ends or alters a credential names what it changed and
``PUBLISH``es the names on the ``changes`` channel itself, so every process
hears of the change atomically with it (nothing can read the new state
before the message is on its way); this process's listeners are told from
the script's answer, before the write returns.
"""

from __future__ import annotations

import json
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from auth.store.changes import ChangeFanout
from auth.store.redis.layout import RedisKeys

CHANGES = """
-- A changing script fills `changed` with entry names, ends with `return changes(result)`,
-- and takes the channel as its last ARGV.
local changed = {}
local function changes(result)
  local names = '[]'
  if #changed > 0 then
    names = cjson.encode(changed)
    redis.call('PUBLISH', ARGV[#ARGV], names)
  end
  return {names, result}
end
"""


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
        self._fanout = ChangeFanout()

    def _script(self, source: str) -> AsyncScript:
        """The registered script for ``source`` (``EVALSHA``, reloaded after a restart)."""
        script = self._scripts.get(source)
        if script is None:
            script = self._scripts[source] = self._redis.register_script(source)
        return script

    async def _change(self, source: str, keys: list[str], args: list[Any]) -> Any:
        """Run a changing script (``CHANGES`` + ``source``); return its result.

        The listeners in this process forget the changed entries before this
        returns; other processes hear the script's own ``PUBLISH``.
        """
        names, result = await self._script(CHANGES + source)(
            keys=keys, args=[*args, self._names.changes]
        )
        self._fanout.invalidate(json.loads(names) or [])
        return result
