"""One log line per answer: who, what route, how it ended, how long, which model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import create_key, make_settings, password_token

HOUSE = {"lotsize": 5000, "bedrooms": 3, "bathrms": 1, "stories": 2, "garagepl": 1}


def request_lines(out: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("logger") == "app.requests"]


def test_json_lines_carry_the_request_and_never_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path / "state", log_format="json")
    with TestClient(create_app(settings)) as client:
        token = password_token(client, "root-admin", "a-long-test-passphrase")
        key = create_key(client, {"Authorization": f"Bearer {token}"}, ["predict"], "100/minute")
        capsys.readouterr()
        response = client.post(
            "/v2/predict",
            json={**HOUSE, "driveway": True, "recroom": False, "fullbase": False,
                  "gashw": False, "airco": True, "prefarea": False},
            headers={"X-API-Key": key["key"], "X-Request-ID": "trace-me.42"},
        )  # fmt: skip
        assert response.status_code == 200
        client.post("/v1/predict", json=HOUSE, headers={"X-API-Key": "nope"})
        out = capsys.readouterr().out
    first, second = request_lines(out)
    assert first["request_id"] == "trace-me.42"
    assert response.headers["x-request-id"] == "trace-me.42"
    assert first["principal"] == f"key:{key['id']}"
    assert first["route"] == "/v2/predict"
    assert first["status"] == 200
    assert first["model_version"] == "v2"
    assert isinstance(first["duration_ms"], float)
    assert second["status"] == 401
    assert second["principal"] is None
    assert second["model_version"] is None
    assert key["key"] not in out
    assert token not in out


def test_development_lines_are_readable_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(tmp_path / "state", env="development", log_format="auto")
    assert settings.log_style == "text"
    with TestClient(create_app(settings)) as client:
        capsys.readouterr()
        client.get("/healthz", headers={"X-Request-ID": "abc"})
        out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if "app.requests" in line]
    assert "route=/healthz status=200" in line
    assert "request_id=abc" in line
    assert "None" not in line  # no principal, no model: left out, not spelled out
    assert not line.startswith("{")


def test_production_logs_json_unless_told_otherwise() -> None:
    assert Settings.model_construct(env="production", log_format="auto").log_style == "json"
    assert Settings.model_construct(env="production", log_format="text").log_style == "text"
    assert Settings.model_construct(env="development", log_format="json").log_style == "json"
