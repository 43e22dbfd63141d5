"""Password-guessing throttle for ``POST /token``.

Only failed password attempts count, in two buckets: the client's address
(one attacker, many usernames) and the username (many addresses, one
victim). ``check`` only looks, so a client that logs in correctly is never
locked out by its own successes. Usage, in the token endpoint::

    decision = await throttle.check(ip, username)
    if not decision.allowed:
        raise rate_limit_exceeded(decision, LOGIN_POLICY)
    if not password_ok:
        await throttle.record_failure(ip, username)

Checking, verifying and recording run as one step inside ``attempt``,
which admits ``concurrency`` attempts at a time per process: without it,
concurrent guesses would all pass ``check`` before any failure was recorded
(60 of 60 simultaneous guesses were verified against a limit of 10). The
slots also bound the memory argon2 takes (64 MiB per verification). With
slots, a burst can exceed the limit by at most the slots of every process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from app.ratelimit.decision import RateLimitDecision, parse_limit
from app.ratelimit.keys import ip_bucket, username_bucket
from app.ratelimit.limiter import Limiter

LOGIN_POLICY = "login"
DEFAULT_CONCURRENCY = 2


class LoginThrottle:
    def __init__(
        self, limiter: Limiter, limit: str, concurrency: int = DEFAULT_CONCURRENCY
    ) -> None:
        parse_limit(limit)  # refuse a bad setting at start-up, not at the first login
        self._limiter = limiter
        self._limit = limit
        self._slots = asyncio.Semaphore(concurrency)

    @contextlib.asynccontextmanager
    async def attempt(self, ip: str, username: str) -> AsyncIterator[RateLimitDecision]:
        """Hold a slot for one whole attempt: ``check`` now, verify and record inside."""
        async with self._slots:
            yield await self.check(ip, username)

    async def check(self, ip: str, username: str) -> RateLimitDecision:
        """Whether another attempt may be verified now; counts nothing.

        Refused if either bucket is exhausted (the decision of the one that
        frees up last); otherwise the decision with the least remaining.
        """
        by_ip, by_user = await asyncio.gather(
            self._limiter.peek(self._limit, _ip_key(ip)),
            self._limiter.peek(self._limit, _user_key(username)),
        )
        refused = [d for d in (by_ip, by_user) if not d.allowed]
        if refused:
            return max(refused, key=lambda d: d.retry_after)
        return min((by_ip, by_user), key=lambda d: d.remaining)

    async def record_failure(self, ip: str, username: str) -> None:
        """Count one failed password attempt against both buckets."""
        await asyncio.gather(
            self._limiter.hit(self._limit, _ip_key(ip)),
            self._limiter.hit(self._limit, _user_key(username)),
        )


def _ip_key(ip: str) -> str:
    return f"login-ip:{ip_bucket(ip)}"


def _user_key(username: str) -> str:
    return f"login-user:{username_bucket(username)}"
