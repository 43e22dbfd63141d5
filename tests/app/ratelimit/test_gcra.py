"""The GCRA step itself, in exact arithmetic: bursts, boundaries, the clamp.

The limiter tests drive the same step through both storages with a real clock;
these pin its edges, where a clock would make them flaky.
"""

from __future__ import annotations

import pytest

from app.ratelimit.gcra import slack_us, step

MINUTE_US = 60_000_000.0
DAY_US = 86_400_000_000.0
NOW_US = 1_790_000_000_123_456.0
"""A clock reading of late 2026 in µs: a double holds it to a quarter of a microsecond."""


def burst(count: int, period_us: float, now_us: float = NOW_US) -> list[bool]:
    """``count + 1`` requests at one instant against an empty bucket, the TAT stored as the
    in-process limiter stores it (the Lua script stores the same double)."""
    interval, tat, admitted = period_us / count, 0.0, []
    for _ in range(count + 1):
        decision = step(tat, now_us, interval, period_us)
        admitted.append(decision.admitted)
        if decision.admitted:
            tat = now_us + decision.ahead_us + interval
    return admitted


@pytest.mark.parametrize(
    ("count", "period_us"),
    [
        (6, 1e6),  # admitted 5 while the allowance was a fixed 0.001 µs
        (7, MINUTE_US),
        (9, MINUTE_US),
        (13, 3_600e6),
        (13, DAY_US),
        (1, 1e6),
        (1000, DAY_US),
        (1999, 1e6),
        (5000, 366 * DAY_US),
    ],
)
def test_exactly_the_limit_passes_in_one_burst(count: int, period_us: float) -> None:
    """N per period admits N at one instant, fractional intervals included, and not N + 1."""
    assert burst(count, period_us) == [True] * count + [False]


def test_the_float_allowance_is_microseconds_and_never_half_an_interval() -> None:
    assert 0 < slack_us(NOW_US, MINUTE_US / 7, MINUTE_US) < 5
    assert slack_us(NOW_US, 1e6 / 9_999, 1e6) == pytest.approx(1e6 / 9_999 / 2)


def test_the_admission_boundary_is_one_period_ahead() -> None:
    """Admitted when the TAT after it is at most one period (and the allowance) ahead."""
    interval = MINUTE_US / 4
    edge = NOW_US + MINUTE_US - interval
    assert step(edge, NOW_US, interval, MINUTE_US).admitted
    beyond = edge + 2 * slack_us(NOW_US, interval, MINUTE_US)
    assert not step(beyond, NOW_US, interval, MINUTE_US).admitted


def test_a_full_bucket_is_exactly_one_period_ahead_and_never_clamped() -> None:
    """With an unchanged limit an admitted request leaves the TAT at most one period ahead,
    so the clamp (and the write it costs on Redis) never applies."""
    now, interval = NOW_US, MINUTE_US / 4
    full = step(now + MINUTE_US, now, interval, MINUTE_US)
    assert (full.admitted, full.clamped, full.ahead_us) == (False, False, MINUTE_US)


def test_a_tat_left_by_a_stricter_limit_is_clamped_to_one_period() -> None:
    """Moving from 1/day to 60/minute: the next minute decides, not the rest of the day."""
    now = NOW_US
    left_over = now + DAY_US
    decision = step(left_over, now, 1e6, MINUTE_US)
    assert decision.clamped
    assert decision.ahead_us == MINUTE_US
    assert not decision.admitted
    after_one_interval = step(now + MINUTE_US, now + 1e6, 1e6, MINUTE_US)
    assert after_one_interval.admitted
