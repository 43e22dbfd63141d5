"""Keep N predictions in flight against the stack for a bounded time, and keep every outcome.

Each of ``concurrency`` loops sends one request, waits for its answer and
sends the next, until ``seconds`` have passed; requests already sent then
finish. Every request ends in exactly one ``Outcome``: an HTTP status, or the
transport error that stood in for one. Only ``httpx.HTTPError`` is taken as
an outcome; anything else is a bug of the test and propagates.

The client behaves as RFC 9112 §9.3.1 lets a careful one: a request that got
no answer at all (the connection closed before a status line came back) is
sent again on another connection, up to ``MAX_ATTEMPTS`` times, which is safe
here because a prediction is a pure function of its body. Such a request
still counts: its unanswered attempts are kept (``Outcome.unanswered``), and
``reached_nginx`` tells whether any of them was in fact read by nginx, which
would make the resend a duplicate the server owes an answer for. A request
that timed out, or whose answer broke off after its head, is never sent
again: it is a failure.

The load runs on an event loop in a thread of its own (``background_load``),
so the test itself stays free to kill, restart or reload parts of the stack
meanwhile. Times are ``time.monotonic()``, the clock the test uses to mark
its faults.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.stack.harness import RunningStack
from tests.support.payloads import V1_FEATURES

KEPT_HEADERS = ("retry-after", "x-ratelimit-remaining", "content-type")
MAX_ATTEMPTS = 3
REQUEST_TIMEOUT = 10.0
"""Longer than any answer the stack should take under this load; a timeout is a failure."""


@dataclass(frozen=True, slots=True)
class Outcome:
    request_id: str
    """The ``X-Request-ID`` of the last attempt (the one this outcome is about)."""
    sent_at: float
    """When the first attempt was sent."""
    answered_at: float
    status: int | None
    """``None`` when no HTTP answer came (``error`` says what happened instead)."""
    error: str | None
    headers: Mapping[str, str]
    """The answer's ``KEPT_HEADERS`` that were present."""
    unanswered: tuple[str, ...] = ()
    """The ``X-Request-ID`` of each earlier attempt that got no answer and was sent again."""

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    @property
    def kind(self) -> str:
        """``"200"``, ``"503"``, or the transport error's type: what the summary counts."""
        if self.status is None:
            return (self.error or "no answer").split(":", 1)[0]
        if self.error is None:
            return str(self.status)
        return f"{self.status} {self.error.split(':', 1)[0]}"


@dataclass(frozen=True, slots=True)
class LoadReport:
    outcomes: list[Outcome]
    started_at: float
    ended_at: float

    @property
    def sent(self) -> int:
        return len(self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    @property
    def resent(self) -> list[str]:
        """Every attempt that got no answer and was sent again."""
        return [request_id for outcome in self.outcomes for request_id in outcome.unanswered]

    @property
    def per_second(self) -> float:
        return self.sent / (self.ended_at - self.started_at)

    def kinds(self) -> Counter[str]:
        return Counter(outcome.kind for outcome in self.outcomes)

    def sent_between(self, start: float, end: float) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if start <= outcome.sent_at < end]

    def summary(self) -> str:
        """One line for figures and assertion messages."""
        kinds = ", ".join(f"{kind}: {count}" for kind, count in sorted(self.kinds().items()))
        return (
            f"{self.sent} requests in {self.ended_at - self.started_at:.1f} s "
            f"({self.per_second:.0f}/s), {len(self.failures)} failed, "
            f"{len(self.resent)} attempts resent unanswered; {kinds}"
        )


def reached_nginx(stack: RunningStack, request_ids: Iterable[str]) -> list[str]:
    """Those of ``request_ids`` that nginx logged, i.e. read (call once the load is over)."""
    wanted = set(request_ids)
    logged = []
    for line in stack.access_log().splitlines():
        request_id = json.loads(line)["request_id"]
        if request_id in wanted:
            logged.append(request_id)
    return logged


async def run_load(
    stack: RunningStack,
    headers: Mapping[str, str],
    *,
    concurrency: int,
    seconds: float,
    path: str = "/v1/predict",
    body: Mapping[str, Any] = V1_FEATURES,
) -> LoadReport:
    outcomes: list[Outcome] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    started_at = time.monotonic()
    deadline = started_at + seconds
    async with stack.async_client(limits=limits, timeout=REQUEST_TIMEOUT) as client:

        async def loop(index: int) -> None:
            sent = 0
            while time.monotonic() < deadline:
                request_id = f"load-{started_at:.0f}-{index}-{sent}"
                outcomes.append(await _send(client, path, body, headers, request_id))
                sent += 1

        await asyncio.gather(*(loop(index) for index in range(concurrency)))
    return LoadReport(outcomes, started_at, time.monotonic())


@contextmanager
def background_load(
    stack: RunningStack,
    headers: Mapping[str, str],
    *,
    concurrency: int,
    seconds: float,
) -> Iterator[Future[LoadReport]]:
    """``run_load`` in a thread; the block's exit waits for it (at most ``seconds`` + a timeout)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="load") as pool:
        yield pool.submit(
            asyncio.run,
            run_load(stack, headers, concurrency=concurrency, seconds=seconds),
        )


async def _send(
    client: httpx.AsyncClient,
    path: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    request_id: str,
) -> Outcome:
    sent_at = time.monotonic()
    unanswered: list[str] = []
    error = "never sent"
    for attempt in range(MAX_ATTEMPTS):
        attempt_id = f"{request_id}.{attempt}"
        try:
            return await _attempt(client, path, body, headers, attempt_id, sent_at, unanswered)
        except httpx.TimeoutException as timeout:
            error = f"{type(timeout).__name__}: {timeout}"
            break
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
            unanswered.append(attempt_id)
    last = unanswered.pop() if unanswered else f"{request_id}.0"
    return Outcome(last, sent_at, time.monotonic(), None, error, {}, tuple(unanswered))


async def _attempt(
    client: httpx.AsyncClient,
    path: str,
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    attempt_id: str,
    sent_at: float,
    unanswered: list[str],
) -> Outcome:
    """One attempt; raises ``httpx.HTTPError`` only when no answer began."""
    request_headers = {**headers, "X-Request-ID": attempt_id}
    async with client.stream("POST", path, json=dict(body), headers=request_headers) as response:
        kept = {name: response.headers[name] for name in KEPT_HEADERS if name in response.headers}
        problem = None
        try:
            content = await response.aread()
        except httpx.HTTPError as torn:
            problem = f"answer broke off: {type(torn).__name__}: {torn}"
        else:
            if response.status_code == 200 and b"predicted_price" not in content:
                problem = "answer without a prediction"
        return Outcome(
            attempt_id,
            sent_at,
            time.monotonic(),
            response.status_code,
            problem,
            kept,
            tuple(unanswered),
        )
