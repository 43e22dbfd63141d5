"""What admins may create: password policy, one identity per name, the scope ceiling."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import create_key


def test_a_weak_password_is_a_422_naming_the_rule(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for password in ("password", "12345678", " " * 8, "1qaz2wsx3edc4rfv"):
        body = {"username": "weak", "password": password, "scopes": ["predict"]}
        response = client.post("/admin/users", json=body, headers=admin_headers)
        assert response.status_code == 422, response.text
        (error,) = response.json()["detail"]
        assert error["loc"] == ["body", "password"]
        assert "password" in error["msg"]


def test_a_username_differing_only_in_case_is_taken(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {"username": "rt-admin", "password": "a fine long passphrase", "scopes": ["predict"]}
    assert client.post("/admin/users", json=body, headers=admin_headers).status_code == 201
    again = client.post(
        "/admin/users", json={**body, "username": "RT-ADMIN"}, headers=admin_headers
    )
    assert again.status_code == 409


def test_an_admin_only_key_cannot_mint_predict_keys_or_admins(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    admin_only = {"X-API-Key": create_key(client, admin_headers, ["admin"], "100/minute")["key"]}
    body = {"name": "escalate", "scopes": ["predict"], "rate_limit": "10/minute"}
    refused = client.post("/admin/keys", json=body, headers=admin_only)
    assert refused.status_code == 403
    assert "predict" in refused.json()["detail"]
    user = {"username": "mallory", "password": "a fine long passphrase", "scopes": ["predict"]}
    assert client.post("/admin/users", json=user, headers=admin_only).status_code == 403
    own = {"name": "fine", "scopes": ["admin"], "rate_limit": "10/minute"}
    assert client.post("/admin/keys", json=own, headers=admin_only).status_code == 201


def test_a_created_or_rotated_secret_is_never_cached(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    body = {"name": "cache-test", "scopes": ["predict"], "rate_limit": "10/minute"}
    created = client.post("/admin/keys", json=body, headers=admin_headers)
    assert created.headers["cache-control"] == "no-store"
    rotated = client.post(f"/admin/keys/{created.json()['id']}/rotate", headers=admin_headers)
    assert rotated.status_code == 201
    assert rotated.headers["cache-control"] == "no-store"


def test_out_of_bounds_limits_are_refused_at_creation(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for limit in ("1 per 99999999999999999999 year", "1/0 minute", "10000001/second"):
        body = {"name": "bounds", "scopes": ["predict"], "rate_limit": limit}
        response = client.post("/admin/keys", json=body, headers=admin_headers)
        assert response.status_code == 422, (limit, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", "rate_limit"]
