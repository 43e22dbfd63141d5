"""Development secrets every worker and instance of the local stack shares.

Tokens signed by one worker must verify on every other, and an API key
hashed by one instance must match on the next, so the secrets cannot be
generated per process: they are generated once into ``$STATE_DIR/stack.env``
(0600) and reused on every ``make stack``. A value given in the environment
wins and is never written to the file.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from pathlib import Path

from app.local_stack import read_env_file
from scripts.stack.files import write_private

HEADER = "# Development secrets for `make stack`. Delete this file to rotate them.\n"


def _signing_keys() -> str:
    return f"stack:{secrets.token_urlsafe(48)}"


def _random() -> str:
    return secrets.token_urlsafe(48)


GENERATORS: dict[str, Callable[[], str]] = {
    "JWT_SIGNING_KEYS": _signing_keys,
    "API_KEY_PEPPER": _random,
    "REDIS_PASSWORD": _random,
    "REDIS_APP_PASSWORD": _random,
}


def load_or_create(path: Path, environ: Mapping[str, str]) -> dict[str, str]:
    """The secrets to hand to the stack's processes: from ``path``, generating any missing."""
    stored = read(path)
    missing = [name for name in GENERATORS if name not in stored and not environ.get(name)]
    for name in missing:
        stored[name] = GENERATORS[name]()
    if missing or not path.is_file():
        lines = "".join(f"{name}={value}\n" for name, value in sorted(stored.items()))
        write_private(path, (HEADER + lines).encode())
    return {name: value for name, value in stored.items() if not environ.get(name)}


def read(path: Path) -> dict[str, str]:
    return read_env_file(path)
