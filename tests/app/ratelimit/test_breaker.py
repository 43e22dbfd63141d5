"""The outage breaker's timing, on a clock the test moves."""

from __future__ import annotations

import logging

import pytest

from app.ratelimit.breaker import OutageBreaker


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_healthy_always_tries() -> None:
    breaker = OutageBreaker(0.5, clock=ManualClock())
    assert all(breaker.should_try() for _ in range(5))
    assert not breaker.is_open


def test_an_outage_allows_one_probe_per_interval() -> None:
    clock = ManualClock()
    breaker = OutageBreaker(0.5, clock=clock)
    breaker.record_failure(ConnectionError("refused"), "fail-open")
    assert breaker.is_open
    assert not breaker.should_try()
    clock.now += 0.49
    assert not breaker.should_try()
    clock.now += 0.02
    assert breaker.should_try()  # the probe
    assert not breaker.should_try()  # everyone else while the probe is out
    breaker.record_failure(ConnectionError("refused"), "fail-open")
    clock.now += 0.3
    assert not breaker.should_try()
    clock.now += 0.3
    assert breaker.should_try()
    breaker.record_success()
    assert not breaker.is_open
    assert all(breaker.should_try() for _ in range(5))


def test_one_warning_per_outage_and_one_info_per_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.ratelimit.breaker")
    clock = ManualClock()
    breaker = OutageBreaker(0.5, clock=clock)
    for _ in range(2):  # two outages
        for _ in range(10):
            breaker.record_failure(TimeoutError("read timed out"), "fail-closed")
        clock.now += 3
        breaker.record_success()
        breaker.record_success()
    levels = [record.levelno for record in caplog.records]
    assert levels == [logging.WARNING, logging.INFO] * 2
    assert caplog.records[1].fields == {"outage_seconds": 3.0}  # type: ignore[attr-defined]
