"""Redis outages: fail-open falls back and recovers, fail-closed refuses, nobody waits long."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator

import anyio
import pytest
import redis
from prometheus_client import REGISTRY
from redis.exceptions import ResponseError

from app.ratelimit.limiter import REDIS_KEY_PREFIX, Limiter, LimiterUnavailable
from tests.app.ratelimit.support import redis_keys
from tests.support.redis_server import RedisServer

pytestmark = pytest.mark.anyio

TIMEOUT_SECONDS = 1.0
SLACK_SECONDS = 0.4
BREAKER_LOGGER = "app.ratelimit.breaker"


def counter(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


def breaker_records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == BREAKER_LOGGER and r.levelno == level]


@pytest.fixture
def blackhole_url() -> Iterator[str]:
    """A port that accepts connections and never answers: a hung Redis."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(256)
        yield f"redis://127.0.0.1:{sock.getsockname()[1]}/0"


async def timed_hit(limiter: Limiter, key: str, limit: str = "3/day") -> tuple[bool, float]:
    started = time.monotonic()
    decision = await limiter.hit(limit, key)
    return decision.allowed, time.monotonic() - started


async def wait_for_redis_decisions(limiter: Limiter, redis_url: str) -> float:
    """Seconds until a hit lands in Redis again (gives up after 5)."""
    started = time.monotonic()
    while time.monotonic() - started < 5:
        with contextlib.suppress(LimiterUnavailable):  # fail-closed, breaker still open
            await limiter.hit("100/day", "user:after-outage")
        if any("user:after-outage" in key for key in redis_keys(redis_url)):
            return time.monotonic() - started
        await anyio.sleep(0.05)
    raise AssertionError("limits never went back to Redis")


async def test_fail_open_falls_back_locally_logs_once_and_recovers(
    make_limiter: Callable[..., Limiter],
    redis_server: RedisServer,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=BREAKER_LOGGER)
    limiter = make_limiter(redis_url=redis_url, timeout_seconds=TIMEOUT_SECONDS)
    assert (await limiter.hit("3/day", "user:olive")).allowed
    fallbacks_before = counter("ratelimit_fallback_total")

    redis_server.stop()
    try:
        outcomes = []
        for _ in range(6):  # spans more than one probe interval
            allowed, took = await timed_hit(limiter, "user:olive")
            assert took < TIMEOUT_SECONDS + SLACK_SECONDS
            outcomes.append(allowed)
            await anyio.sleep(0.2)
    finally:
        redis_server.start()

    # The fallback is a fresh in-process bucket, and it still limits.
    assert outcomes == [True, True, True, False, False, False]
    assert counter("ratelimit_fallback_total") - fallbacks_before == 6
    warnings = breaker_records(caplog, logging.WARNING)
    assert len(warnings) == 1
    assert warnings[0].fields["policy"] == "fail-open"  # type: ignore[attr-defined]

    assert await wait_for_redis_decisions(limiter, redis_url) < 2.0
    assert len(breaker_records(caplog, logging.INFO)) == 1
    fallbacks_after_recovery = counter("ratelimit_fallback_total")
    for _ in range(3):
        await limiter.hit("3/day", "user:olive")
    assert counter("ratelimit_fallback_total") == fallbacks_after_recovery


async def test_fail_closed_refuses_quickly_and_recovers(
    make_limiter: Callable[..., Limiter],
    redis_server: RedisServer,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger=BREAKER_LOGGER)
    limiter = make_limiter(
        redis_url=redis_url,
        timeout_seconds=TIMEOUT_SECONDS,
        outage_policy="fail-closed",
    )
    assert (await limiter.hit("3/day", "user:pat")).allowed
    refusals_before = counter("ratelimit_unavailable_total")
    fallbacks_before = counter("ratelimit_fallback_total")

    redis_server.stop()
    try:
        for _ in range(4):
            started = time.monotonic()
            with pytest.raises(LimiterUnavailable):
                await limiter.hit("3/day", "user:pat")
            assert time.monotonic() - started < TIMEOUT_SECONDS + SLACK_SECONDS
            await anyio.sleep(0.2)
    finally:
        redis_server.start()

    assert counter("ratelimit_unavailable_total") - refusals_before == 4
    assert counter("ratelimit_fallback_total") == fallbacks_before
    assert len(breaker_records(caplog, logging.WARNING)) == 1
    assert await wait_for_redis_decisions(limiter, redis_url) < 2.0


async def test_a_restarted_redis_leaves_no_stale_connection_to_fail_later(
    make_limiter: Callable[..., Limiter],
    redis_server: RedisServer,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every pooled connection dies with Redis; each must be replaced on its first use.

    Without a retry on a connection error, each stale connection picked up after
    the restart opened an outage of its own: five more 0.5 s windows of
    fail-closed 503s within 2.5 s of Redis answering again, on the real stack.
    """
    caplog.set_level(logging.INFO, logger=BREAKER_LOGGER)
    limiter = make_limiter(
        redis_url=redis_url, timeout_seconds=TIMEOUT_SECONDS, outage_policy="fail-closed"
    )
    # Twelve requests at once: twelve connections in the pool.
    await asyncio.gather(*(limiter.hit("1000/day", f"user:p{n}") for n in range(12)))
    redis_server.stop()
    redis_server.start()
    refusals_before = counter("ratelimit_unavailable_total")
    for _ in range(3):
        decisions = await asyncio.gather(
            *(limiter.hit("1000/day", f"user:p{n}") for n in range(12))
        )
        assert all(decision.allowed for decision in decisions)
    assert counter("ratelimit_unavailable_total") == refusals_before
    assert breaker_records(caplog, logging.WARNING) == []


async def test_a_hung_redis_costs_one_timeout_per_probe_not_per_request(
    make_limiter: Callable[..., Limiter], blackhole_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=BREAKER_LOGGER)
    limiter = make_limiter(redis_url=blackhole_url, timeout_seconds=0.3)

    started = time.monotonic()
    first_wave = await asyncio.gather(*(limiter.hit("5/day", "user:quinn") for _ in range(20)))
    assert time.monotonic() - started < 0.3 + SLACK_SECONDS
    assert sum(d.allowed for d in first_wave) == 5  # the fallback limits them
    assert len(breaker_records(caplog, logging.WARNING)) == 1  # twenty failures, one outage

    # Breaker open: no request talks to the hung server until the next probe.
    for _ in range(10):
        _, took = await timed_hit(limiter, "user:rose")
        assert took < 0.1

    await anyio.sleep(0.6)  # past the probe interval: one request probes, and waits
    _, probe_took = await timed_hit(limiter, "user:rose")
    assert 0.2 < probe_took < 0.3 + SLACK_SECONDS
    assert not await limiter.ping()


async def test_a_script_error_is_a_bug_raised_not_an_outage(
    make_limiter: Callable[..., Limiter], redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A refused script must not switch every client of the worker to the fallback."""
    caplog.set_level(logging.INFO, logger=BREAKER_LOGGER)
    limiter = make_limiter(redis_url=redis_url)
    client = redis.Redis.from_url(redis_url)
    client.hset(f"{REDIS_KEY_PREFIX}:user:wrong-type", "field", "1")
    client.close()
    fallbacks_before = counter("ratelimit_fallback_total")
    with pytest.raises(ResponseError):
        await limiter.hit("5/day", "user:wrong-type")
    assert counter("ratelimit_fallback_total") == fallbacks_before
    assert breaker_records(caplog, logging.WARNING) == []
    assert (await limiter.hit("5/day", "user:someone-else")).allowed
