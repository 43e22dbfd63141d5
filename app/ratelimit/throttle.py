"""Password-guessing throttle for ``POST /token``: only failed attempts count.

Three buckets, each checked before a password is verified and each hit by a
failure:

- the (client address, username) pair, tight (``LOGIN_FAILURE_LIMIT``): one
  client guessing one account;
- the username alone, looser (``LOGIN_USERNAME_FAILURE_LIMIT``): a guess
  spread over many addresses stays bounded, while one client's failures no
  longer lock the owner out everywhere (with a single per-username bucket,
  ten failures a minute from anywhere locked any account, the first admin's
  included);
- the client address alone (``AUTH_FAILURE_LIMIT``, shared with failed
  credentials on every other route): one client spraying many usernames.

``check`` only looks, so a client that logs in correctly is never locked out
by its own successes. Checking, verifying and recording run as one step
inside ``attempt``, which admits ``concurrency`` attempts at a time per
process: without it, concurrent guesses would all pass ``check`` before any
failure was recorded (60 of 60 simultaneous guesses were verified against a
limit of 10). The slots also bound the memory argon2 takes (64 MiB per
verification). Usernames are hashed, never looked up, so the throttle treats
an unknown name exactly like a known one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from app.ratelimit.decision import RateLimitDecision
from app.ratelimit.keys import ip_bucket, username_bucket
from app.ratelimit.limiter import Limiter
from auth.rate_limits import RateLimit

LOGIN_POLICY = "login"
DEFAULT_CONCURRENCY = 2


class LoginThrottle:
    def __init__(
        self,
        limiter: Limiter,
        *,
        per_client_and_user: RateLimit,
        per_user: RateLimit,
        per_client: RateLimit,
        concurrency: int = DEFAULT_CONCURRENCY,
    ) -> None:
        self._limiter = limiter
        self._limits = (per_client_and_user, per_user, per_client)
        self._slots = asyncio.Semaphore(concurrency)

    @contextlib.asynccontextmanager
    async def attempt(self, ip: str, username: str) -> AsyncIterator[RateLimitDecision]:
        """Hold a slot for one whole attempt: ``check`` now, verify and record inside."""
        async with self._slots:
            yield await self.check(ip, username)

    async def check(self, ip: str, username: str) -> RateLimitDecision:
        """Whether another attempt may be verified now; counts nothing.

        Refused if any bucket is exhausted (the decision of the one that frees
        up last); otherwise the decision with the least remaining.
        """
        decisions = await asyncio.gather(
            *(
                self._limiter.peek(limit, key)
                for limit, key in zip(self._limits, _keys(ip, username), strict=True)
            )
        )
        refused = [d for d in decisions if not d.allowed]
        if refused:
            return max(refused, key=lambda d: d.retry_after)
        return min(decisions, key=lambda d: d.remaining)

    async def record_failure(self, ip: str, username: str) -> None:
        """Count one failed password attempt against every bucket."""
        await asyncio.gather(
            *(
                self._limiter.hit(limit, key)
                for limit, key in zip(self._limits, _keys(ip, username), strict=True)
            )
        )


def _keys(ip: str, username: str) -> tuple[str, str, str]:
    client, user = ip_bucket(ip), username_bucket(username)
    return f"login:{client}:{user}", f"login-user:{user}", f"auth-failure:{client}"
