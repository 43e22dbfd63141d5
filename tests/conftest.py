"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support import figures
from tests.support.redis_server import RedisServer

# Property tests: `make test` runs a bounded, reproducible sample (the property tests add
# under 30 s); HYPOTHESIS_PROFILE=thorough searches twenty times as far, from a fresh seed.
settings.register_profile("suite", max_examples=100, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(Path(tmp_path_factory.mktemp("redis")))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """A real, empty Redis for this test."""
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the tests measured (``tests.support.figures``), after the pass/fail summary."""
    for section, lines in figures.sections().items():
        terminalreporter.write_sep("-", section)
        for line in lines:
            terminalreporter.write_line(line)
