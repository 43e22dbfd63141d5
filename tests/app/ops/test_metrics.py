"""GET /metrics: admin only, Prometheus text, counting by route template and model."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.app.conftest import create_key
from tests.support.payloads import V1_FEATURES, V2_FEATURES


def _samples(client: TestClient, headers: dict[str, str]) -> dict[tuple, float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict[tuple, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_by_route_and_predictions_by_model(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    key = {"X-API-Key": create_key(client, admin_headers, ["predict"], "1000/minute")["key"]}
    before = _samples(client, admin_headers)
    client.post("/v1/predict", json=V1_FEATURES, headers=key)
    client.post("/v2/predict/batch", json={"instances": [V2_FEATURES] * 7}, headers=key)
    client.get(f"/no/such/path/{id(before)}")
    after = _samples(client, admin_headers)

    def delta(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert delta("predictions_total", model_version="v1") == 1
    assert delta("predictions_total", model_version="v2") == 7
    assert delta("http_requests_total", route="/v1/predict", method="POST", status="200") == 1
    assert delta("http_requests_total", route="unmatched", method="GET", status="404") == 1
    assert (
        delta("http_request_duration_seconds_count", route="/v2/predict/batch", method="POST") == 1
    )


def test_metrics_need_the_admin_scope(client: TestClient, admin_headers: dict[str, str]) -> None:
    predict_only = {"X-API-Key": create_key(client, admin_headers, ["predict"], "10/minute")["key"]}
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=predict_only).status_code == 403
