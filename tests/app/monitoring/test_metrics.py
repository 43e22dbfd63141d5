"""/metrics describes the models: what each version serves, drift, the log's health."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from app.main import create_app
from tests.app.conftest import create_key, make_settings, password_token


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_model_info_drift_and_log_counters(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path / "state", drift_window=50))) as client:
        token = password_token(client, "root-admin", "a-long-test-passphrase")
        admin = {"Authorization": f"Bearer {token}"}
        scraper = {"X-API-Key": create_key(client, admin, ["metrics"], "1000/minute")["key"]}
        house = {"lotsize": 29_000, "bedrooms": 3, "bathrms": 1, "stories": 2, "garagepl": 1}
        batch = {"instances": [house] * 50}
        assert client.post("/v1/predict/batch", json=batch, headers=admin).status_code == 200
        deadline = time.monotonic() + 10
        while True:
            text = client.get("/metrics", headers=scraper).text
            sizes = samples(text, "model_drift_window_size")
            written = samples(text, "prediction_log_written_total").get((), 0)
            settled = sizes.get((("model_version", "v1"),)) == 50 and written >= 50
            if settled or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        sha = client.get("/v1/model", headers=admin).json()["artifact_sha256"]
    info = samples(text, "model_info")
    assert any(dict(labels)["sha256"] == sha and value == 1 for labels, value in info.items())
    assert {dict(labels)["model_version"] for labels in info} == {"v1", "v2"}
    psi = samples(text, "model_drift_psi")
    assert psi[(("feature", "lotsize"), ("model_version", "v1"))] > 0.2
    assert (("model_version", "v2"),) in samples(text, "model_drift_window_size")
    assert samples(text, "prediction_log_written_total")[()] >= 50
    assert "prediction_log_dropped_total" in text
    assert "model_reloads_total" in text
