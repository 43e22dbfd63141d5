"""The app's request log line carries the id nginx kept or made, the caller and the model."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.stack import api
from tests.stack.harness import RunningStack

pytestmark = pytest.mark.stack

HOUSE = {"lotsize": 5000, "bedrooms": 3, "bathrms": 1, "stories": 2, "garagepl": 1}


def app_log_line(stack: RunningStack, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        for line in (stack.log_dir / "app-1.log").read_text().splitlines():
            if not line.startswith("{"):
                continue
            entry = json.loads(line)
            if entry.get("logger") == "app.requests" and entry.get("request_id") == request_id:
                return dict(entry)
        if time.monotonic() > deadline:
            raise AssertionError(f"no request log line for {request_id}")
        time.sleep(0.1)


@pytest.mark.parametrize("sent", ["stack-trace.7", "not ok!", "x" * 129])
def test_one_id_from_the_client_through_nginx_to_the_log(
    stack: RunningStack, admin_headers: dict[str, str], sent: str
) -> None:
    with stack.client() as client:
        key = api.predict_key(client, admin_headers, "1000/minute", name=api.unique("log"))
        response = client.post(
            "/v1/predict", json=HOUSE, headers={**api.key_headers(key), "X-Request-ID": sent}
        )
    assert response.status_code == 200
    (echoed,) = response.headers.get_list("x-request-id")
    if sent == "stack-trace.7":
        assert echoed == sent
    else:
        assert echoed != sent
        assert len(echoed) == 32
    line = app_log_line(stack, echoed)
    assert line["principal"] == f"key:{key['id']}"
    assert line["route"] == "/v1/predict"
    assert line["status"] == 200
    assert line["model_version"] == "v1"
    assert key["key"] not in (stack.log_dir / "app-1.log").read_text()
