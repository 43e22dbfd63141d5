"""One real stack per test session: nginx (TLS) → 2 Gunicorn workers → its own Redis."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.stack import api
from tests.stack.harness import RunningStack, running_stack, stack_environment

DEFAULT_RATE_LIMIT = 30
"""Per-minute limit of token (user) clients; tight, so the limit tests stay short."""


@pytest.fixture(scope="session")
def stack_state_dirs() -> Iterator[Callable[[str], Path]]:
    """State directories nginx's workers can reach (pytest's own temp root is 0700)."""
    made: list[Path] = []

    def make(name: str) -> Path:
        made.append(Path(tempfile.mkdtemp(prefix=f"hapi-{name}-")))
        return made[-1]

    yield make
    for directory in made:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def stack(stack_state_dirs: Callable[[str], Path]) -> Iterator[RunningStack]:
    env = stack_environment(
        stack_state_dirs("stack"), DEFAULT_RATE_LIMIT=f"{DEFAULT_RATE_LIMIT}/minute"
    )
    with running_stack(env) as running:
        yield running


@pytest.fixture
def client(stack: RunningStack) -> Iterator[httpx.Client]:
    with stack.client() as client:
        yield client


@pytest.fixture(scope="session")
def admin_headers(stack: RunningStack) -> dict[str, str]:
    return api.admin_key_headers(stack)
