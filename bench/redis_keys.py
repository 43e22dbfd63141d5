"""What the benchmark left in the stack's Redis: the largest keys, by ``MEMORY USAGE``.

The limiter and the credential cache must stay O(1) per client, so after a
benchmark no key should be large but a capped stream (the prediction log).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import redis

from scripts.stack import stack_env

LARGE_BYTES = 16 * 1024


@dataclass(frozen=True)
class KeySize:
    name: str
    type: str
    bytes: int


def largest_keys(state_dir: Path, count: int = 5) -> list[KeySize]:
    """The ``count`` largest keys of the stack's own Redis (its admin password is in stack.env)."""
    port = json.loads((state_dir / "run" / "stack.json").read_text())["redis_port"]
    password = stack_env.read(state_dir / "stack.env")["REDIS_PASSWORD"]
    client = redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True)
    try:
        sizes = [
            KeySize(name, str(client.type(name)), int(client.memory_usage(name, samples=0) or 0))
            for name in client.scan_iter(count=1000)
        ]
    finally:
        client.close()
    return sorted(sizes, key=lambda size: size.bytes, reverse=True)[:count]
