"""GET /admin/drift/{version}: shifted traffic flags exactly the shifted feature."""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import REPO, create_key, make_settings, password_token

V1_FEATURES = ("lotsize", "bedrooms", "bathrms", "stories", "garagepl")


def training_rows() -> list[dict[str, Any]]:
    with (REPO / "data" / "housing.csv").open() as handle:
        return [
            {name: int(float(row[name])) for name in V1_FEATURES} for row in csv.DictReader(handle)
        ]


@pytest.fixture
def app_client(tmp_path: Path) -> Any:
    with TestClient(create_app(make_settings(tmp_path / "state"))) as client:
        yield client


def headers_for(client: TestClient, scopes: list[str]) -> dict[str, str]:
    admin = {
        "Authorization": f"Bearer {password_token(client, 'root-admin', 'a-long-test-passphrase')}"
    }
    return {"X-API-Key": create_key(client, admin, scopes, "1000000/minute")["key"]}


def drift(client: TestClient, headers: dict[str, str], expected_rows: int, **params: Any) -> Any:
    """The drift answer once the writer has logged ``expected_rows`` (it runs off the path)."""
    deadline = time.monotonic() + 10
    while True:
        response = client.get("/admin/drift/v1", params=params, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["window_size"] >= expected_rows or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_shifted_lot_sizes_flag_lotsize_and_nothing_else(app_client: TestClient) -> None:
    admin = headers_for(app_client, ["admin", "predict"])
    rows = random.Random(7).sample(training_rows(), 400)
    shifted = [{**row, "lotsize": 14_000 + 20 * index} for index, row in enumerate(rows)]
    for start in range(0, len(shifted), 100):
        response = app_client.post(
            "/v1/predict/batch", json={"instances": shifted[start : start + 100]}, headers=admin
        )
        assert response.status_code == 200, response.text
    body = drift(app_client, admin, 400, window=400)
    assert body["version"] == "v1"
    assert body["window_size"] == 400
    flagged = {item["name"] for item in body["features"] if item["drifted"]}
    assert flagged == {"lotsize"}
    by_name = {item["name"]: item["psi"] for item in body["features"]}
    assert by_name["lotsize"] > 1.0
    assert all(by_name[name] < 0.1 for name in V1_FEATURES if name != "lotsize")


def test_unshifted_traffic_flags_nothing(app_client: TestClient) -> None:
    admin = headers_for(app_client, ["admin", "predict"])
    rows = random.Random(11).sample(training_rows(), 300)
    for row in rows:
        assert app_client.post("/v1/predict", json=row, headers=admin).status_code == 200
    body = drift(app_client, admin, 300)
    assert body["window_size"] == 300
    assert not any(item["drifted"] for item in body["features"])


def test_an_empty_log_says_so_instead_of_no_drift(app_client: TestClient) -> None:
    admin = headers_for(app_client, ["admin"])
    response = app_client.get("/admin/drift/v2", headers=admin)
    assert response.status_code == 200
    body = response.json()
    assert body["window_size"] == 0
    assert {item["psi"] for item in body["features"]} == {None}
    assert len(body["features"]) == 11


def test_the_window_bounds_what_is_compared(app_client: TestClient) -> None:
    admin = headers_for(app_client, ["admin", "predict"])
    batch = {"instances": random.Random(3).sample(training_rows(), 50)}
    assert app_client.post("/v1/predict/batch", json=batch, headers=admin).status_code == 200
    assert drift(app_client, admin, 50)["window_size"] == 50
    assert drift(app_client, admin, 20, window=20)["window_size"] == 20


@pytest.mark.parametrize(
    ("path", "status"), [("/admin/drift/v9", 404), ("/admin/drift/v1?window=0", 422)]
)
def test_bad_requests(app_client: TestClient, path: str, status: int) -> None:
    admin = headers_for(app_client, ["admin"])
    assert app_client.get(path, headers=admin).status_code == status


def test_drift_is_for_admins(app_client: TestClient) -> None:
    predictor = headers_for(app_client, ["predict"])
    assert app_client.get("/admin/drift/v1", headers=predictor).status_code == 403
    assert app_client.get("/admin/drift/v1").status_code == 401
