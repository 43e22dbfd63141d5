"""On the stack the prediction log is a Redis stream under the app's own ACL user."""

from __future__ import annotations

import time

import pytest

from tests.stack.harness import RunningStack

pytestmark = pytest.mark.stack


def test_predictions_through_nginx_are_logged_and_measured_for_drift(
    stack: RunningStack, admin_headers: dict[str, str]
) -> None:
    houses = [{"lotsize": 25_000, "bedrooms": 3, "bathrms": 1, "stories": 2, "garagepl": 1}] * 150
    with stack.client() as client:
        before = client.get("/admin/drift/v1", params={"window": 100_000}, headers=admin_headers)
        assert before.status_code == 200, before.text
        logged = before.json()["window_size"]
        answer = client.post("/v1/predict/batch", json={"instances": houses}, headers=admin_headers)
        assert answer.status_code == 200
        deadline = time.monotonic() + 10
        while True:
            body = client.get("/admin/drift/v1", params={"window": 150}, headers=admin_headers)
            total = client.get(
                "/admin/drift/v1", params={"window": 100_000}, headers=admin_headers
            ).json()["window_size"]
            if total >= logged + 150 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
    assert total >= logged + 150
    report = body.json()
    assert report["window_size"] == 150
    lot = next(item for item in report["features"] if item["name"] == "lotsize")
    assert lot["drifted"] is True
