"""The whole app with Redis stopped mid-test: clear 503s, never a 500 or a hang; then recovery."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

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
    settings = make_settings(tmp_path, redis_url=redis_url, redis_timeout_seconds=TIMEOUT)
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
