"""What the shell commands need to know of a ``make stack`` running on the same ``STATE_DIR``.

``make stack`` keeps its store in a Redis (its own, or the one its
``REDIS_URL`` named) and its secrets in ``$STATE_DIR/stack.env``; a
``housing-api create-key`` that wrote to the embedded SQLite file, or to
another Redis, or digested the key under another pepper, would print a key
the stack then refuses. So the commands that touch the store resolve it as
the service does (``REDIS_URL``, else SQLite under ``STATE_DIR``) and then
ask here: when ``STATE_DIR`` holds a running stack's manifest, they act on
the stack's Redis with the stack's secrets; when what they resolved is not
that Redis, or they cannot tell where it is, they refuse in one line rather
than succeed on the wrong store. ``scripts/stack`` writes these files by
these names.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import redis

from app.settings import Settings

RUN_DIR = "run"
MANIFEST = "stack.json"
SECRETS_FILE = "stack.env"
APP_REDIS_USER = "app"
SHARED_SECRETS = ("JWT_SIGNING_KEYS", "API_KEY_PEPPER")
"""What the commands must share with the stack's workers to mint what they accept."""
DEFAULT_REDIS_PORT = 6379
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1"})


class StackStoreUnknown(RuntimeError):
    """A stack runs on this STATE_DIR but the commands cannot act on its store from here."""


@dataclass(frozen=True, slots=True)
class StackStore:
    """Where the stack running on a ``STATE_DIR`` keeps its store, as its files say."""

    state_dir: Path
    address: str | None
    """``redis_address`` of the stack's Redis; ``None`` when its manifest does not say."""
    url: str | None
    """A URL with the app's own credentials, when the stack runs its own Redis."""
    secrets: dict[str, str]


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


def redis_address(url: str) -> str:
    """Which database of which server ``url`` names, credentials left out, spelled one way.

    Two URLs of one database give one answer whatever else differs: user and
    password, ``localhost`` for ``127.0.0.1``, a port or db left to its default,
    TLS or not.
    """
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme == "unix":
        return f"unix://{parts.path}?db={_db(query.get('db', ['0'])[0])}"
    host = (parts.hostname or "localhost").lower()
    host = "127.0.0.1" if host in LOOPBACK_NAMES else host
    db = parts.path.strip("/") or query.get("db", ["0"])[0]
    return f"redis://{host}:{parts.port or DEFAULT_REDIS_PORT}/{_db(db)}"


def _db(value: str) -> str:
    return str(int(value)) if value.isdigit() else value


def loopback_redis_url(port: int, password: str, user: str = "") -> str:
    """The Redis a stack runs on ``port`` of the loopback: as ``user`` (``APP_REDIS_USER``
    for its workers, ``""`` for the operator's ``default``), database 0."""
    return f"redis://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}/0"


def running_stack(state_dir: Path) -> StackStore | None:
    """The stack whose manifest ``state_dir`` holds (``up`` writes it, ``down`` removes it)."""
    manifest = state_dir / RUN_DIR / MANIFEST
    if not manifest.is_file():
        return None
    info: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))
    secrets = read_env_file(state_dir / SECRETS_FILE)
    port, password = info.get("redis_port"), secrets.get("REDIS_APP_PASSWORD")
    url = None
    if port is not None and password is not None:
        url = loopback_redis_url(int(port), password, APP_REDIS_USER)
    address = info.get("redis_address") or (None if url is None else redis_address(url))
    return StackStore(state_dir, address, url, secrets)


def settings_for_shell(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings of the service the shell's ``STATE_DIR`` belongs to, or ``StackStoreUnknown``.

    Resolved as the service resolves them; a stack running on ``STATE_DIR``
    then decides the store: its own Redis when nothing else was named, the
    one named when it is the stack's, a refusal otherwise.
    """
    environ = os.environ if environ is None else environ
    settings = Settings()
    stack = running_stack(settings.state_dir)
    if stack is None:
        return settings
    url = _stack_store_url(settings.redis_url, stack)
    if not redis_answers(url):
        raise StackStoreUnknown(
            f"the stack on {stack.state_dir} does not answer (its Redis at "
            f"{redis_address(url)}): start it with `make stack`, or stop it cleanly with "
            "`make stack-down`"
        )
    shared: dict[str, Any] = {
        name.lower(): stack.secrets[name]
        for name in SHARED_SECRETS
        if name in stack.secrets and not environ.get(name)
    }
    return Settings(redis_url=url, **shared)


def _stack_store_url(resolved: str | None, stack: StackStore) -> str:
    """The URL to reach the stack's store with, if what the settings resolved allows."""
    where = stack.address or "a Redis its manifest does not name"
    if resolved is None:
        if stack.url is None:
            raise StackStoreUnknown(
                f"a stack runs on {stack.state_dir} with its store in {where}: set REDIS_URL "
                "to that Redis to act on it"
            )
        return stack.url
    if stack.address is None or redis_address(resolved) != stack.address:
        raise StackStoreUnknown(
            f"REDIS_URL names {redis_address(resolved)}, but the stack running on "
            f"{stack.state_dir} keeps its store in {where}: unset REDIS_URL to act on the "
            "stack, or use another STATE_DIR"
        )
    return resolved


def redis_answers(url: str, timeout: float = 1.0) -> bool:
    """Whether the Redis at ``url`` answers a PING within ``timeout`` (never raises)."""
    client = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
