"""Liveness, readiness and the request id."""

from __future__ import annotations

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
