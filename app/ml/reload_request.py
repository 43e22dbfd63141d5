"""Asking every worker that shares ``STATE_DIR`` to swap in the artifacts now on disk.

``housing-api reload`` verifies and loads the artifacts itself first (a
tampered or unloadable one is refused before any worker sees a request),
then writes the SHA-256 of each version to ``$STATE_DIR/models.reload.json``
(atomically). Each worker polls that file and, when it changes, loads the
artifacts again, checks they are still the requested ones, and swaps them in
with one assignment: requests already running keep the models they started
with, and a worker that cannot load them keeps serving the old ones.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from app.ml.registry import ModelRegistry

REQUEST_FILE = "models.reload.json"


@dataclass(frozen=True, slots=True)
class ReloadRequest:
    requested_at: float
    sha256: dict[str, str]

    @classmethod
    def parse(cls, text: str) -> ReloadRequest:
        data = json.loads(text)
        return cls(requested_at=float(data["requested_at"]), sha256=dict(data["sha256"]))


def shas(registry: ModelRegistry) -> dict[str, str]:
    return {version: registry[version].manifest.sha256 for version in registry.versions}


def request_reload(state_dir: Path, models_dir: Path) -> ReloadRequest:
    """Verify and load ``models_dir``, then ask the workers to do the same.

    Raises whatever loading raises (``IntegrityError`` for a tampered artifact,
    ``ValueError`` for a mismatched schema, ``OSError`` for a missing file);
    nothing is written then.
    """
    registry = ModelRegistry.load(models_dir)
    request = ReloadRequest(requested_at=time.time(), sha256=shas(registry))
    state_dir.mkdir(parents=True, exist_ok=True)
    target = state_dir / REQUEST_FILE
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_text(
        json.dumps({"requested_at": request.requested_at, "sha256": request.sha256}),
        encoding="utf-8",
    )
    os.replace(temporary, target)
    return request


def read_request(state_dir: Path) -> str | None:
    """The request file's text, or ``None`` when there is none."""
    try:
        return (state_dir / REQUEST_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
