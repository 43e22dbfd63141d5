"""What every answer carries: a request id, browser hardening; what no redirect echoes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import make_settings


def test_every_answer_is_hardened_for_browsers(client: TestClient) -> None:
    for response in (client.get("/healthz"), client.get("/v1/model"), client.get("/nope")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_the_docs_run_only_their_own_scripts(client: TestClient) -> None:
    page = client.get("/docs")
    policy = page.headers["content-security-policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert "script-src 'self' 'nonce-" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert page.text.count("<script>") == 0
    assert f'<script nonce="{nonce}">' in page.text
    assert client.get("/docs").headers["content-security-policy"] != policy  # fresh per answer


@pytest.mark.parametrize(("env", "enabled", "served"), [
    ("production", None, False), ("development", None, True), ("production", True, True),
    ("development", False, False),
])  # fmt: skip
def test_docs_are_off_in_production_unless_asked_for(
    tmp_path: Path, env: str, enabled: bool | None, served: bool
) -> None:
    overrides = {"env": env, "docs_enabled": enabled}
    if env == "production":
        overrides |= {
            "jwt_signing_keys": "k1:Zq8xW3vLp9Rt2YbN5mKc7HdJ4sFg6AeUoP1i",
            "api_key_pepper": "Ue6gFs4JdH7cKm5NbY2tR9pLv3Wx8qZ0aB1c",
            "first_admin_password": "a long production passphrase",
        }
    app = create_app(make_settings(tmp_path, **overrides))
    with TestClient(app) as client:
        statuses = {path: client.get(path).status_code for path in ("/docs", "/redoc")}
        openapi = client.get("/openapi.json").status_code
    assert statuses == {"/docs": 200 if served else 404, "/redoc": 200 if served else 404}
    assert openapi == (200 if served else 404)


def test_a_trailing_slash_is_a_404_never_a_redirect_to_the_clients_host(
    client: TestClient,
) -> None:
    response = client.get("/v1/model/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code in (401, 404)
    assert "location" not in response.headers
