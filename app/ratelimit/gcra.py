"""GCRA, the generic cell rate algorithm: one number per client, one step per request.

A limit of N per period P lets a request through every ``T = P / N`` on
average, with bursts of up to N. The only state is the client's *theoretical
arrival time* (TAT): when its bucket would be empty again. A request at
``now`` is admitted when ``max(TAT, now) + T - now <= P``, and then moves the
TAT on by T. Memory and time per client are constant whatever the limit or the
traffic (the moving window it replaces kept one list entry per request: 234 KB
for one busy key after a benchmark, and two round trips per decision).

A TAT further ahead than the current limit's period (left by a stricter limit
the key had before) is clamped to one period ahead and stored so, so a changed
limit takes effect within one interval of the new limit, never after the old
window. With an unchanged limit the clamp never applies: an admitted request
leaves the TAT at most one period ahead.

The same step runs in Python (in-process limits) and in Lua on Redis, where
it is atomic and reads Redis's own clock, so every worker and host sharing
the Redis agrees exactly. Times are microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

EPSILON = 2.0**-52
"""The relative spacing of doubles: a time ``t`` (µs since 1970) is held to ``t * EPSILON``."""


def slack_us(now_us: float, interval_us: float, period_us: float) -> float:
    """How far float error can carry a full bucket's TAT past one period; the decision allows it.

    Each admitted request stores ``TAT + T`` rounded to the clock's magnitude: at
    1.8e15 µs (2026) a double holds a quarter of a microsecond, so the Nth request
    of a burst finds the TAT up to N quarter-microseconds off the grid of
    intervals. A fixed allowance of 0.001 µs, smaller than one rounding, refused
    the last request of 305 of 796 limits tried at one instant (N from 1 to 199,
    per second, minute, hour, day): 6/second admitted 5. The allowance is that
    error bound, a few microseconds for any sane limit, and never half an
    interval, so the request after the Nth is still refused.
    """
    error = (period_us / interval_us + 1.0) * (now_us + period_us) * EPSILON
    return min(error, interval_us / 2.0)


SCRIPT = """
-- KEYS[1]: the client's bucket. ARGV: interval_us, period_us, consume (1 or 0).
-- Returns {admitted (1/0), tat - now before this request (µs), now (µs)}.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2])
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local clamped = tat > now + period
if clamped then tat = now + period end
local new_tat = tat + interval
local slack = math.min((period / interval + 1) * (now + period) * %(epsilon)r, interval / 2)
local admitted = new_tat - now <= period + slack
if admitted and ARGV[3] == '1' then
  redis.call('SET', KEYS[1], string.format('%%.3f', new_tat),
             'PX', math.ceil((new_tat - now) / 1000))
elseif clamped then
  redis.call('SET', KEYS[1], string.format('%%.3f', tat), 'PX', math.ceil(period / 1000))
end
return {admitted and 1 or 0, string.format('%%.3f', tat - now), string.format('%%.0f', now)}
""" % {"epsilon": EPSILON}  # noqa: UP031 (Lua's own %-formats stay literal)


@dataclass(frozen=True, slots=True)
class Step:
    admitted: bool
    ahead_us: float
    """How far the client's TAT was ahead of now before this request (0 when idle)."""
    now_us: float
    clamped: bool = False
    """The stored TAT was beyond this limit's period and must be stored clamped."""


def step(stored_tat_us: float, now_us: float, interval_us: float, period_us: float) -> Step:
    """The in-process twin of ``SCRIPT`` (the caller stores the TAT it implies)."""
    tat = max(stored_tat_us, now_us)
    clamped = tat > now_us + period_us
    if clamped:
        tat = now_us + period_us
    admitted = tat + interval_us - now_us <= period_us + slack_us(now_us, interval_us, period_us)
    return Step(admitted, tat - now_us, now_us, clamped)
