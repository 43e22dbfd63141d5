"""What the shell commands need to know of a ``make stack`` running on the same ``STATE_DIR``.

``make stack`` keeps its store in its own Redis and its secrets in
``$STATE_DIR/stack.env``; a ``housing-api create-key`` that wrote to the
embedded SQLite file instead would print a key the stack then refuses. So
the commands that touch the store ask here first: with a stack running on
their ``STATE_DIR`` (and no ``REDIS_URL`` of their own) they act on the
stack's Redis, as the app's own Redis user, with the stack's secrets; when
they cannot tell where its store is, they refuse rather than succeed on the
wrong one. ``scripts/stack`` writes these files by these names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis

from app.settings import Settings

RUN_DIR = "run"
MANIFEST = "stack.json"
SECRETS_FILE = "stack.env"
APP_REDIS_USER = "app"
SHARED_SECRETS = ("JWT_SIGNING_KEYS", "API_KEY_PEPPER")
"""What the commands must share with the stack's workers to mint what they accept."""


class StackStoreUnknown(RuntimeError):
    """A stack runs on this STATE_DIR but its store cannot be reached from here."""


def read_env_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (comments and blanks skipped); empty when there is no file."""
    if not path.is_file():
        return {}
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if sep:
            values[name.strip()] = value.strip()
    return values


def settings_for_shell(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of the service the shell's ``STATE_DIR`` belongs to."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    manifest = settings.state_dir / RUN_DIR / MANIFEST
    if settings.redis_url or not manifest.is_file():
        return settings
    stack = json.loads(manifest.read_text(encoding="utf-8"))
    secrets = read_env_file(settings.state_dir / SECRETS_FILE)
    port, password = stack.get("redis_port"), secrets.get("REDIS_APP_PASSWORD")
    if port is None or password is None:
        raise StackStoreUnknown(
            f"a stack runs on {settings.state_dir} with a Redis of its own choosing: "
            "set REDIS_URL (and its JWT_SIGNING_KEYS, API_KEY_PEPPER) to act on it"
        )
    url = f"redis://{APP_REDIS_USER}:{quote(password, safe='')}@127.0.0.1:{int(port)}/0"
    if not redis_answers(url):
        raise StackStoreUnknown(
            f"the stack on {settings.state_dir} does not answer (its Redis on port {port}): "
            "start it with `make stack`, or stop it cleanly with `make stack-down`"
        )
    shared: dict[str, Any] = {
        name.lower(): secrets[name]
        for name in SHARED_SECRETS
        if name in secrets and not environ.get(name)
    }
    return Settings(redis_url=url, **shared)


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    """Whether the Redis at ``url`` answers a PING within ``timeout`` (never raises)."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
