"""Fixtures shared by the whole suite, and the summary of what tests measured."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support import figures as figure_book
from tests.support.redis_server import RedisServer

# Property tests: `make test` runs a bounded, reproducible sample (the property tests add
# under 30 s); HYPOTHESIS_PROFILE=thorough searches twenty times as far, from a fresh seed.
settings.register_profile("suite", max_examples=100, deadline=None, derandomize=True)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))


def pytest_configure(config: pytest.Config) -> None:
    figure_book.install(config)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    figure_book.write_summary(terminalreporter)


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> figure_book.FigureSheet:
    """Where this test records what it measured; printed at the end of the run."""
    return figure_book.sheet_for(request)


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
