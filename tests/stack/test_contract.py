"""The HTTP contract end to end: client → nginx (TLS) → Gunicorn workers → Redis."""

from __future__ import annotations

import httpx
import pytest

from tests.stack import api
from tests.support.payloads import V1_FEATURES, V2_FEATURES

pytestmark = pytest.mark.stack


def test_password_grant_token_predicts_with_both_models(
    client: httpx.Client, admin_headers: dict[str, str]
) -> None:
    username, password = api.predict_user(client, admin_headers, "analyst")
    token = api.password_token(client, username, password)
    assert token["token_type"].lower() == "bearer"
    assert token["expires_in"] > 0
    assert token["refresh_token"]
    headers = api.bearer(token["access_token"])

    v1 = client.post("/v1/predict", json=V1_FEATURES, headers=headers)
    v2 = client.post("/v2/predict", json=V2_FEATURES, headers=headers)
    assert v1.status_code == 200, v1.text
    assert v2.status_code == 200, v2.text
    assert v1.json()["model_version"] == "v1"
    assert v2.json()["model_version"] == "v2"
    assert v1.json()["predicted_price"] > 0

    batch = client.post("/v1/predict/batch", json={"instances": [V1_FEATURES] * 3}, headers=headers)
    assert batch.status_code == 200, batch.text
    assert batch.json()["predictions"] == pytest.approx([v1.json()["predicted_price"]] * 3)


def test_refresh_token_is_single_use(client: httpx.Client, admin_headers: dict[str, str]) -> None:
    username, password = api.predict_user(client, admin_headers, "refresher")
    first = api.password_token(client, username, password)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    renewed = client.post("/token", data=form)
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["refresh_token"] != first["refresh_token"]
    replayed = client.post("/token", data=form)
    assert replayed.status_code == 400
    assert replayed.json()["error"] == "invalid_grant"


def test_revoked_access_token_stops_working(
    client: httpx.Client, admin_headers: dict[str, str]
) -> None:
    username, password = api.predict_user(client, admin_headers, "revoker")
    token = api.password_token(client, username, password)["access_token"]
    assert client.post("/token/revoke", data={"token": token}).status_code == 200
    refused = client.post("/v1/predict", json=V1_FEATURES, headers=api.bearer(token))
    assert refused.status_code == 401
    assert "www-authenticate" in refused.headers


def test_missing_credentials_are_refused_with_a_challenge(client: httpx.Client) -> None:
    response = client.post("/v1/predict", json=V1_FEATURES)
    assert response.status_code == 401
    assert "www-authenticate" in response.headers


def test_admin_key_lifecycle(client: httpx.Client, admin_headers: dict[str, str]) -> None:
    created = api.predict_key(client, admin_headers, "100/minute", name="partner")
    secret = created["key"]
    assert secret.startswith("hpk_")
    key_headers = api.key_headers(created)

    predicted = client.post("/v2/predict", json=V2_FEATURES, headers=key_headers)
    assert predicted.status_code == 200, predicted.text

    listed = client.get("/admin/keys", headers=admin_headers)
    assert listed.status_code == 200
    assert created["id"] in listed.text
    assert secret not in listed.text
    one = client.get(f"/admin/keys/{created['id']}", headers=admin_headers)
    assert one.status_code == 200
    assert secret not in one.text

    api.revoke_key(client, admin_headers, created["id"])
    refused = client.post("/v2/predict", json=V2_FEATURES, headers=key_headers)
    assert refused.status_code == 401
    assert "www-authenticate" in refused.headers


def test_predict_scope_cannot_administer(
    client: httpx.Client, admin_headers: dict[str, str]
) -> None:
    created = api.predict_key(client, admin_headers, "100/minute", name="no-admin")
    response = client.get("/admin/keys", headers=api.key_headers(created))
    assert response.status_code == 403
