"""Secrets for development and tests, generated once per state directory.

Outside production, a missing JWT signing key or API-key pepper is generated
and kept in ``$STATE_DIR/dev-secrets.json`` (mode 0600), so tokens and keys
survive a restart and every local worker agrees. Production never gets here:
``Settings`` refuses to start without real secrets.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

FILE_NAME = "dev-secrets.json"


def load_or_create(state_dir: Path) -> dict[str, str]:
    path = state_dir / FILE_NAME
    if path.exists():
        return _read(path)
    values = {
        "jwt_signing_key": f"dev-{secrets.token_hex(4)}:{secrets.token_urlsafe(48)}",
        "api_key_pepper": secrets.token_urlsafe(48),
    }
    state_dir.mkdir(parents=True, exist_ok=True)
    draft = state_dir / f".{FILE_NAME}.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(values, handle)
    try:
        os.link(draft, path)  # atomic, and loses cleanly to a concurrent starter
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return _read(path)


def _read(path: Path) -> dict[str, str]:
    values = json.loads(path.read_text())
    return {str(name): str(value) for name, value in values.items()}
