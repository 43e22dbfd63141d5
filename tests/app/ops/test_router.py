"""Liveness, readiness and the request id."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_each_check(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["models"] is True


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    assert (
        client.get("/healthz", headers={"x-request-id": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    made = client.get("/healthz", headers={"x-request-id": "bad id\n"}).headers["x-request-id"]
    assert made != "bad id\n"
    assert len(made) == 32


def test_numeric_thread_pools_are_pinned_to_one(client: TestClient) -> None:
    from threadpoolctl import threadpool_info

    pools = threadpool_info()
    assert pools, "numpy/scikit-learn thread pools should be visible"
    assert {pool["num_threads"] for pool in pools} == {1}


def test_an_empty_store_without_a_first_admin_says_how_to_make_one(
    tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.main import create_app
    from tests.app.conftest import make_settings

    settings = make_settings(
        tmp_path, first_admin_username=None, first_admin_password=None, log_format="json"
    )
    with TestClient(create_app(settings)):
        pass
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    warnings = [line["msg"] for line in lines if line["level"] == "warning"]
    assert any("create-user" in message for message in warnings), warnings
