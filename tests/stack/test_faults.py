"""Faults on the real stack under load: a worker or Redis killed, nginx reloaded, all restarted.

Each test keeps 16 predictions in flight (tests/stack/load.py) while it does
something an operator or the kernel does to a running service, and counts
what every client request got. The stack is this module's own, so its
faults never reach the other stack tests. Each test records its figures,
printed at the end of the run.

What "no failed request" means here, precisely: every request got a whole
200. A request caught by nginx closing an idle keep-alive connection (on
reload) never reached nginx's HTTP layer (no access-log line) and is sent
again by the client, as RFC 9112 §9.3.1 allows; each test checks that no
resent request had in fact been read, and counts the resends.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from tests.stack import api
from tests.stack.harness import (
    RunningStack,
    child_pids,
    restart_stack,
    running_stack,
    stack_environment,
)
from tests.stack.load import LoadReport, Outcome, background_load, reached_nginx
from tests.support.figures import FigureSheet
from tests.support.payloads import V1_FEATURES
from tests.support.processes import wait_until

pytestmark = pytest.mark.stack

CONCURRENCY = 16
LOAD_LIMIT = "10000000/minute"
RECOVERY_SECONDS = 2.0
"""Limits go back to Redis within this long of its return (README, "When Redis is down")."""
PROBE_QUOTA = 200
PROBE_LIMIT = f"{PROBE_QUOTA}/day"
PROBE_SPENT = 100
"""Spent in Redis before the outage: an answer leaving fewer than this was decided by Redis,
one leaving this many or more by a worker's in-process fallback (a fresh bucket of 200)."""


def where_answered(stack: RunningStack, outcomes: list[Outcome]) -> list[dict[str, object]]:
    """nginx's record of each answer: its status, and the app's (empty: nginx answered alone)."""
    entries = stack.access_entries(outcome.request_id for outcome in outcomes)
    return [
        {key: entry.get(key) for key in ("request_id", "status", "upstream_status", "request_time")}
        for entry in entries.values()
    ]


@pytest.fixture(scope="module")
def faults_stack(stack_state_dirs: Callable[[str], Path]) -> Iterator[RunningStack]:
    env = stack_environment(stack_state_dirs("faults"))
    with running_stack(env) as running:
        yield running


@pytest.fixture(scope="module")
def faults_admin(faults_stack: RunningStack) -> dict[str, str]:
    return api.admin_key_headers(faults_stack)


@pytest.fixture
def load_headers(faults_stack: RunningStack, faults_admin: dict[str, str]) -> dict[str, str]:
    """A key whose limit the load never reaches."""
    with faults_stack.client() as client:
        return api.key_headers(api.predict_key(client, faults_admin, LOAD_LIMIT, name="load"))


def record_load(figures: FigureSheet, report: LoadReport) -> None:
    figures.record("requests", report.sent)
    figures.record("requests per second", round(report.per_second))
    figures.record("failed", len(report.failures))
    figures.record("resent unanswered", len(report.resent))


def assert_every_request_answered(stack: RunningStack, report: LoadReport) -> None:
    assert not report.failures, f"{report.summary()}; first: {report.failures[:5]}"
    assert not reached_nginx(stack, report.resent), "a resent request had been read by nginx"


def started_workers(stack: RunningStack) -> int:
    """Workers of app-1 that finished starting (loaded the models, opened the stores)."""
    return stack.app_log().count("Application startup complete.")


def test_a_worker_killed_mid_load_fails_no_request_and_is_replaced(
    faults_stack: RunningStack, load_headers: dict[str, str], figures: FigureSheet
) -> None:
    """nginx retries what the dead worker held (its in-flight requests and its idle
    connections, scripts/stack/nginx_conf.py) and a worker writes each answer whole
    (app/worker.py); the Gunicorn master starts a replacement, which serves once started."""
    master = faults_stack.pid("app-1")
    before = faults_stack.worker_pids()
    victim = min(before)
    started = started_workers(faults_stack)
    # Long enough to outlast the replacement's start (2-6 s here).
    with background_load(faults_stack, load_headers, concurrency=CONCURRENCY, seconds=8) as running:
        time.sleep(1.0)
        os.kill(victim, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_until(
            lambda: started_workers(faults_stack) > started, timeout=30, what="a replacement worker"
        )
        replaced_after = time.monotonic() - killed_at
        report = running.result()

    record_load(figures, report)
    figures.record("replacement serving after (s)", replaced_after)
    assert_every_request_answered(faults_stack, report)
    after = faults_stack.worker_pids()
    replacement = after - before
    assert faults_stack.pid("app-1") == master
    assert len(replacement) == 1
    assert after == (before - {victim}) | replacement


def test_an_nginx_reload_mid_load_fails_no_request(
    faults_stack: RunningStack, load_headers: dict[str, str], figures: FigureSheet
) -> None:
    """New nginx workers take over the listening sockets; old ones finish what they read."""
    master = faults_stack.pid("nginx")
    before = child_pids(master)
    with background_load(faults_stack, load_headers, concurrency=CONCURRENCY, seconds=4) as running:
        time.sleep(1.0)
        os.kill(master, signal.SIGHUP)
        report = running.result()

    record_load(figures, report)
    assert_every_request_answered(faults_stack, report)
    # The reload happened: the old workers are gone, new ones serve under the same master.
    wait_until(lambda: not child_pids(master) & before, timeout=15, what="old nginx workers")
    assert faults_stack.pid("nginx") == master
    assert child_pids(master)


@dataclass(frozen=True, slots=True)
class Probe:
    """One request of the probe key: who decided it, and when."""

    at: float
    status: int
    remaining: int | None
    detail: str | None = None
    """What a refusal said (the rate limiter or the credential store unavailable)."""

    @property
    def decided_by_redis(self) -> bool:
        return self.status == 200 and self.remaining is not None and self.remaining < PROBE_SPENT

    @property
    def decided_by_fallback(self) -> bool:
        return self.status == 200 and not self.decided_by_redis


def probe(client: httpx.Client, headers: dict[str, str]) -> Probe:
    response = client.post("/v1/predict", json=V1_FEATURES, headers=headers)
    remaining = response.headers.get("x-ratelimit-remaining")
    assert response.status_code in {200, 503}, response.text
    detail = None
    if response.status_code == 503:
        assert response.headers["retry-after"]
        detail = response.json()["detail"]
    at = time.monotonic()
    return Probe(at, response.status_code, int(remaining) if remaining else None, detail)


async def spend(stack: RunningStack, headers: dict[str, str], count: int) -> list[int]:
    """``count`` predictions at once; the ``X-RateLimit-Remaining`` each left."""
    async with stack.async_client() as client:
        answers = await api.predict_burst(client, count, headers)
    assert {answer.status_code for answer in answers} == {200}
    return [int(answer.headers["x-ratelimit-remaining"]) for answer in answers]


def redis_ready(stack: RunningStack) -> float:
    """Poll the restarted Redis every 5 ms; when it first answered."""
    client = stack.redis_admin(socket_timeout=0.1, socket_connect_timeout=0.1)
    deadline = time.monotonic() + 15
    try:
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return time.monotonic()
            except redis.RedisError:
                pass
            time.sleep(0.005)
    finally:
        client.close()
    raise AssertionError("the restarted Redis never answered")


@pytest.fixture(params=["fail-open", "fail-closed"])
def outage_stack(
    request: pytest.FixtureRequest, stack_state_dirs: Callable[[str], Path]
) -> Iterator[RunningStack]:
    """The module's stack (fail-open, the default), or one refusing limited requests."""
    if request.param == "fail-open":
        yield request.getfixturevalue("faults_stack")
        return
    env = stack_environment(stack_state_dirs("fail-closed"), RATE_LIMIT_OUTAGE_POLICY="fail-closed")
    with running_stack(env) as running:
        yield running


def test_redis_killed_and_restarted_mid_load_keeps_the_outage_policy(
    outage_stack: RunningStack, request: pytest.FixtureRequest, figures: FigureSheet
) -> None:
    """Fail-open: every request is answered, by in-process limits during the outage.
    Fail-closed: the only refusals are 503s with Retry-After, during the outage.
    Either way limits are decided by Redis again within 2 s of its return."""
    fail_open = request.node.callspec.params["outage_stack"] == "fail-open"
    stack = outage_stack
    admin = api.admin_key_headers(stack)
    with stack.client() as client:
        load_headers = api.key_headers(api.predict_key(client, admin, LOAD_LIMIT, name="load"))
        probe_headers = api.key_headers(api.predict_key(client, admin, PROBE_LIMIT, name="probe"))
    # Concurrent, so that both workers see (and cache) the probe key before the outage.
    spent = asyncio.run(spend(stack, probe_headers, PROBE_SPENT))
    assert sorted(spent) == list(range(PROBE_QUOTA - PROBE_SPENT, PROBE_QUOTA))

    with background_load(stack, load_headers, concurrency=CONCURRENCY, seconds=5) as running:
        with stack.client() as client:
            time.sleep(1.0)
            os.kill(stack.pid("redis"), signal.SIGKILL)
            killed_at = time.monotonic()
            try:
                time.sleep(0.5)
                during = probe(client, probe_headers)
                time.sleep(0.5)
            finally:
                stack.start_redis()
            ready_at = redis_ready(stack)
            after = []
            while time.monotonic() < ready_at + RECOVERY_SECONDS + 0.5:
                after.append(probe(client, probe_headers))
                time.sleep(0.05)
        report = running.result()

    first_redis = next((p.at - ready_at for p in after if p.decided_by_redis), None)
    late = [p for p in after if p.at > ready_at + RECOVERY_SECONDS and not p.decided_by_redis]
    record_load(figures, report)
    figures.record("Redis down (s)", ready_at - killed_at)
    back = "never" if first_redis is None else first_redis
    figures.record("limits back on Redis after (s)", back)

    assert first_redis is not None, after
    assert first_redis <= RECOVERY_SECONDS, after
    assert not late, late
    assert not reached_nginx(stack, report.resent)
    if fail_open:
        assert during.decided_by_fallback, during
        assert not report.failures, report.summary()
    else:
        assert during.status == 503, during
        refused = report.failures
        assert refused, "fail-closed refused nothing while Redis was down"
        unplanned = [outcome for outcome in refused if outcome.status != 503]
        assert not unplanned, (report.summary(), where_answered(stack, unplanned))
        assert all(outcome.headers.get("retry-after") for outcome in refused)
        window = (killed_at, ready_at + RECOVERY_SECONDS)
        assert all(window[0] <= outcome.answered_at for outcome in refused)
        late_refusals = [
            (round(o.sent_at - ready_at, 3), round(o.answered_at - ready_at, 3), o.request_id)
            for o in refused
            if o.sent_at > window[1]
        ]
        assert not late_refusals, late_refusals
        figures.record("refused with 503", len(refused))


def test_a_full_restart_keeps_every_acknowledged_credential(
    faults_stack: RunningStack, faults_admin: dict[str, str], figures: FigureSheet
) -> None:
    """Users, keys, refresh families and revocations survive ``down`` + ``up`` on one state
    directory, including a key acknowledged just before Redis was killed (appendfsync always)."""
    stack = faults_stack
    with stack.client() as client:
        username, password = api.predict_user(client, faults_admin, "survivor")
        tokens = api.password_token(client, username, password)
        kept = api.predict_key(client, faults_admin, "1000/minute", name="kept")
        revoked = api.predict_key(client, faults_admin, "1000/minute", name="revoked")
        api.revoke_key(client, faults_admin, revoked["id"])
        last = api.predict_key(client, faults_admin, "1000/minute", name="last")
        # Acknowledged (201 read in full) and then, at once, Redis dies without a word.
        os.kill(stack.pid("redis"), signal.SIGKILL)

    stopped_at = time.monotonic()
    restart_stack(stack)
    figures.record("down and up again (s)", time.monotonic() - stopped_at)

    with stack.client() as client:
        for key in (kept, last):
            answer = client.post("/v1/predict", json=V1_FEATURES, headers=api.key_headers(key))
            assert answer.status_code == 200, (key["name"], answer.text)
        answer = client.post("/v1/predict", json=V1_FEATURES, headers=api.key_headers(revoked))
        assert answer.status_code == 401
        listed = client.get("/admin/keys", headers=faults_admin).json()
        assert {kept["id"], last["id"]} <= {key["id"] for key in listed}
        users = client.get("/admin/users", headers=faults_admin).json()
        assert username in {user["username"] for user in users}
        bearer = api.bearer(tokens["access_token"])
        assert client.post("/v1/predict", json=V1_FEATURES, headers=bearer).status_code == 200
        refreshed = client.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        )
        assert refreshed.status_code == 200, refreshed.text
        assert api.password_token(client, username, password)["access_token"]
