"""One OS process firing concurrent hits at one Redis key; prints how many were admitted.

Run as ``python -m tests.app.ratelimit.burst URL LIMIT KEY HITS``. It
prints ``ready`` once connected, waits for a line on stdin, then fires, so two
processes can be released at the same moment.
"""

from __future__ import annotations

import asyncio
import sys

from app.ratelimit.limiter import Limiter


async def burst(url: str, limit: str, key: str, hits: int) -> int:
    limiter = Limiter(redis_url=url, timeout_seconds=5)
    try:
        # Open every connection and load the Lua scripts first, so the timed
        # burst is only hits, interleaving with the other process's.
        await asyncio.gather(*(limiter.peek(limit, f"{key}:warm-up") for _ in range(hits)))
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        decisions = await asyncio.gather(*(limiter.hit(limit, key) for _ in range(hits)))
        return sum(decision.allowed for decision in decisions)
    finally:
        await limiter.aclose()


if __name__ == "__main__":
    url, limit, key, hits = sys.argv[1:5]
    print(asyncio.run(burst(url, limit, key, int(hits))), flush=True)
