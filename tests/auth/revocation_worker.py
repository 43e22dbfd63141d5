"""A second worker process for ``test_resolver``: resolves a key and a token until refused.

Prints ``ready`` once both resolve from its cache, then ``key <t>`` and
``token <t>`` (``time.monotonic()``, comparable across processes on Linux)
when each is first refused.
"""

from __future__ import annotations

import asyncio
import os
import time

from redis.asyncio import Redis

from auth.store.redis import RedisCredentialStore
from tests.auth.conftest import build_context

DEADLINE_SECONDS = 10


async def main() -> None:
    client = Redis.from_url(os.environ["WORKER_REDIS_URL"], socket_timeout=0.5)
    kid, _, secret = os.environ["WORKER_SIGNING_KEY"].partition(":")
    context = build_context(
        RedisCredentialStore(client),
        signing_keys=[(kid, secret)],
        api_key_pepper=os.environ["WORKER_PEPPER"],
    )
    context.start()
    key, token = os.environ["WORKER_KEY"], os.environ["WORKER_TOKEN"]
    checks = {
        "key": lambda: context.principals.from_api_key(key),
        "token": lambda: context.principals.from_access_token(token),
    }
    try:
        while not context.cache.trusted:
            await asyncio.sleep(0.001)
        for check in checks.values():
            assert await check() is not None
            assert await check() is not None
        print("ready", flush=True)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while checks and time.monotonic() < deadline:
            for kind, check in list(checks.items()):
                if await check() is None:
                    print(kind, time.monotonic(), flush=True)
                    del checks[kind]
            await asyncio.sleep(0.001)
    finally:
        await context.close()
        await client.aclose()


if __name__ == "__main__":
    asyncio.run(main())
