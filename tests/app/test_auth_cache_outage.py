"""The credential cache's grace during a Redis outage, over HTTP: bounded, then 503."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import ADMIN, ADMIN_PASSWORD, create_key, make_settings, password_token
from tests.support.payloads import V1_FEATURES
from tests.support.redis_server import RedisServer

STALE_SECONDS = 2.5


def test_a_cached_key_keeps_working_for_the_stale_window_only(tmp_path: Path) -> None:
    server = RedisServer(tmp_path / "redis")
    server.start()
    settings = make_settings(
        tmp_path / "state",
        redis_url=server.url,
        redis_timeout_seconds=0.3,
        auth_cache_stale_seconds=STALE_SECONDS,
    )
    try:
        with TestClient(create_app(settings)) as client:
            admin = {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}
            key = {"X-API-Key": create_key(client, admin, ["predict"], "1000/minute")["key"]}
            assert client.post("/v1/predict", json=V1_FEATURES, headers=key).status_code == 200

            server.stop()
            stopped = time.monotonic()
            # Fail-open limits, and the key from the cache: still answered...
            assert client.post("/v1/predict", json=V1_FEATURES, headers=key).status_code == 200
            metrics = client.get("/metrics", headers=admin)
            assert metrics.status_code == 200
            counted = [
                float(line.split()[-1])
                for line in metrics.text.splitlines()
                if line.startswith("auth_cache_stale_answers_total ")
            ]
            assert counted
            assert counted[0] >= 1
            # ...but not past the window: the key cannot be checked, so it is refused.
            time.sleep(max(0.0, STALE_SECONDS - (time.monotonic() - stopped)))
            late = client.post("/v1/predict", json=V1_FEATURES, headers=key)
            assert late.status_code == 503
            assert late.headers["Retry-After"]
    finally:
        server.stop()
