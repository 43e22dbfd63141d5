"""The whole app with Redis stopped mid-test: clear 503s, never a 500 or a hang; then recovery."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import redis
from fastapi.testclient import TestClient

from app.first_admin import BOOTSTRAP_RETRY_SECONDS
from app.main import create_app
from tests.app.conftest import ADMIN, ADMIN_PASSWORD, create_key, make_settings, password_token
from tests.support.payloads import V1_FEATURES
from tests.support.redis_server import RedisServer

TIMEOUT = 0.3


def _timed(client: TestClient, method: str, path: str, **kwargs: object) -> tuple[int, float]:
    started = time.monotonic()
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    return response.status_code, time.monotonic() - started


def test_redis_down_answers_503_fast_and_recovers(
    tmp_path: Path, redis_server: RedisServer, redis_url: str
) -> None:
    # No grace from the credential cache (tests/app/test_auth_cache_outage.py has it).
    settings = make_settings(
        tmp_path, redis_url=redis_url, redis_timeout_seconds=TIMEOUT, auth_cache_stale_seconds=0
    )
    with TestClient(create_app(settings)) as client:
        admin = {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}
        key = {"X-API-Key": create_key(client, admin, ["predict"], "1000/minute")["key"]}
        assert client.post("/v1/predict", json=V1_FEATURES, headers=key).status_code == 200

        redis_server.stop()
        try:
            for method, path, kwargs in [
                ("POST", "/v1/predict", {"json": V1_FEATURES, "headers": key}),
                ("GET", "/admin/keys", {"headers": admin}),
                (
                    "POST",
                    "/token",
                    {
                        "data": {
                            "grant_type": "password",
                            "username": ADMIN,
                            "password": ADMIN_PASSWORD,
                        }
                    },
                ),
                ("GET", "/readyz", {}),
            ]:
                status, elapsed = _timed(client, method, path, **kwargs)
                assert status == 503, (path, status)
                # One attempt plus one immediate retry, each bounded by the timeout.
                assert elapsed < 4 * TIMEOUT + 0.5, (path, elapsed)
            assert client.get("/healthz").status_code == 200
        finally:
            redis_server.start()

        deadline = time.monotonic() + 2.0
        while client.post("/v1/predict", json=V1_FEATURES, headers=key).status_code != 200:
            assert time.monotonic() < deadline, "no recovery within 2 s of Redis coming back"
            time.sleep(0.05)
        assert client.get("/readyz").status_code == 200


STALL_SCRIPT = """
local start = redis.call('TIME')
local began = start[1] * 1000000 + start[2]
while true do
  local now = redis.call('TIME')
  if now[1] * 1000000 + now[2] - began > tonumber(ARGV[1]) then return 1 end
end
"""


def _stall(redis_url: str, microseconds: int) -> threading.Thread:
    """Block the whole Redis server with a busy script, from another connection."""
    client = redis.Redis.from_url(redis_url)
    thread = threading.Thread(target=client.eval, args=(STALL_SCRIPT, 0, microseconds))
    thread.start()
    probe = redis.Redis.from_url(redis_url, socket_timeout=0.05)
    try:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline:  # until Redis is seen to be busy
            try:
                probe.ping()
            except redis.TimeoutError:
                return thread
            except redis.BusyLoadingError:
                return thread
            time.sleep(0.005)
        raise AssertionError("Redis never stalled")
    finally:
        probe.close()


def test_a_stalled_redis_never_applies_a_write_twice(tmp_path: Path, redis_url: str) -> None:
    settings = make_settings(tmp_path, redis_url=redis_url, redis_timeout_seconds=TIMEOUT)
    with TestClient(create_app(settings)) as client:
        grant = client.post(
            "/token",
            data={"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD},
        ).json()
        admin = {"Authorization": f"Bearer {grant['access_token']}"}
        # Warm every pooled connection, so the stall hits a live one, not a connect.
        assert client.get("/admin/keys", headers=admin).status_code == 200

        stall = _stall(redis_url, int(3 * TIMEOUT * 1_000_000))
        body = {"name": "during-stall", "scopes": ["predict"], "rate_limit": "5/minute"}
        during = client.post("/admin/keys", json=body, headers=admin)
        stall.join()
        assert during.status_code == 503

        names = [key["name"] for key in client.get("/admin/keys", headers=admin).json()]
        assert names.count("during-stall") <= 1

        stall = _stall(redis_url, int(3 * TIMEOUT * 1_000_000))
        refresh = {"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]}
        during = client.post("/token", data=refresh)
        stall.join()
        assert during.status_code == 503


def test_a_worker_starts_while_redis_is_down_and_bootstraps_once_it_returns(
    tmp_path: Path,
) -> None:
    # A worker that failed to boot would make Gunicorn stop the whole instance.
    server = RedisServer(tmp_path / "redis")  # not started yet
    settings = make_settings(
        tmp_path / "state", redis_url=server.url, redis_timeout_seconds=TIMEOUT
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 503
        server.start()
        try:
            deadline = time.monotonic() + 5.0
            while client.get("/readyz").status_code != 200:
                assert time.monotonic() < deadline, "never ready after Redis came back"
                time.sleep(0.1)
            # The background retry runs every BOOTSTRAP_RETRY_SECONDS; failed logins
            # would count against the throttle, so log in once, after one period.
            time.sleep(BOOTSTRAP_RETRY_SECONDS + 0.5)
            form = {"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}
            assert client.post("/token", data=form).status_code == 200
        finally:
            server.stop()
