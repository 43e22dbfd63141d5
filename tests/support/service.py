"""``housing-api serve`` — what ``make run`` starts — as a real process on a free port.

It runs from an empty directory with an environment built from nothing but
``PATH``, so neither a developer's ``.env`` nor an exported ``REDIS_URL`` or
``FIRST_ADMIN_*`` decides what the tests see: the embedded default (SQLite
under its own state directory, in-process limits) plus the settings given.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.processes import free_port, wait_until

REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO / "models"
SERVE = Path(sys.executable).with_name("housing-api")
"""The console script ``make run`` calls, from the interpreter running the tests."""


@dataclass(frozen=True, slots=True)
class ServedApi:
    port: int
    state_dir: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def serve(workdir: Path, settings: Mapping[str, str]) -> Iterator[ServedApi]:
    """Start the service with ``settings`` (environment names), yield once it is ready."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    state_dir = workdir / "state"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "STATE_DIR": str(state_dir),
        "MODELS_DIR": str(MODELS_DIR),
        **settings,
    }
    log = (workdir / "serve.log").open("wb")
    process = subprocess.Popen(
        [str(SERVE), "serve"], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        wait_until(
            lambda: _ready(process, port),
            timeout=60,
            what=f"housing-api serve on port {port} (log: {workdir / 'serve.log'})",
        )
        yield ServedApi(port=port, state_dir=state_dir)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _ready(process: subprocess.Popen[bytes], port: int) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"housing-api serve exited with {process.returncode}")
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
