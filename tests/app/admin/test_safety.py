"""Admin safety: the last admin stays, passwords can be reset, keys re-limited in place."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import ADMIN, ADMIN_PASSWORD, create_key, password_token
from tests.support.payloads import V1_FEATURES

BOB = {"username": "bob", "password": "bob-has-a-long-password", "scopes": ["admin", "predict"]}


@pytest.fixture
def admin(store_client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {password_token(store_client, ADMIN, ADMIN_PASSWORD)}"}


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    form = {"grant_type": "password", "username": username, "password": password}
    response = client.post("/token", data=form)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_last_admin_cannot_delete_itself(store_client: TestClient, admin: dict) -> None:
    refused = store_client.delete(f"/admin/users/{ADMIN}", headers=admin)
    assert refused.status_code == 409
    assert "last admin" in refused.json()["detail"]
    assert store_client.post("/admin/users", json=BOB, headers=admin).status_code == 201
    assert store_client.delete(f"/admin/users/{ADMIN}", headers=admin).status_code == 204
    bob = {"Authorization": f"Bearer {login(store_client, 'bob', BOB['password'])['access_token']}"}
    assert store_client.delete("/admin/users/bob", headers=bob).status_code == 409


def test_an_admin_resets_a_password_and_every_login_of_the_user_ends(
    store_client: TestClient, admin: dict
) -> None:
    body = {**BOB, "scopes": ["predict"]}
    assert store_client.post("/admin/users", json=body, headers=admin).status_code == 201
    session = login(store_client, "bob", BOB["password"])
    bearer = {"Authorization": f"Bearer {session['access_token']}"}
    assert store_client.post("/v1/predict", json=V1_FEATURES, headers=bearer).status_code == 200
    new = {"new_password": "a-brand-new-long-password"}
    reset = store_client.post("/admin/users/bob/password", json=new, headers=admin)
    assert reset.status_code == 204
    assert store_client.post("/v1/predict", json=V1_FEATURES, headers=bearer).status_code == 401
    refresh = {"grant_type": "refresh_token", "refresh_token": session["refresh_token"]}
    assert store_client.post("/token", data=refresh).status_code == 400
    login(store_client, "bob", new["new_password"])
    old = {"grant_type": "password", "username": "bob", "password": BOB["password"]}
    assert store_client.post("/token", data=old).status_code == 400
    audit = store_client.get("/admin/audit", headers=admin).json()
    assert audit[0]["action"] == "user.password_reset"


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/admin/users/nobody/password", {"new_password": "a-brand-new-long-password"}, 404),
        ("/admin/users/bob/password", {"new_password": "short"}, 400),
        ("/admin/users/bob/password", {"new_password": "x" * 1025}, 422),
        ("/admin/users/bob/password", {"password": "a-brand-new-long-password"}, 422),
    ],
)
def test_bad_password_resets(
    store_client: TestClient, admin: dict, path: str, body: dict, status: int
) -> None:
    store_client.post("/admin/users", json={**BOB, "scopes": ["predict"]}, headers=admin)
    answer = store_client.post(path, json=body, headers=admin)
    assert answer.status_code == status, answer.text
    if status == 400:
        assert "15" in answer.json()["detail"]  # the rule it broke


def test_patching_a_key_keeps_its_secret_and_applies_the_new_limit_at_once(
    store_client: TestClient, admin: dict
) -> None:
    key = create_key(store_client, admin, ["predict"], "2/minute")
    headers = {"X-API-Key": key["key"]}
    statuses = [
        store_client.post("/v1/predict", json=V1_FEATURES, headers=headers).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]
    patched = store_client.patch(
        f"/admin/keys/{key['id']}", json={"rate_limit": "100/minute", "name": "renamed"},
        headers=admin,
    )  # fmt: skip
    assert patched.status_code == 200, patched.text
    assert patched.json()["rate_limit"] == "100/minute"
    assert patched.json()["name"] == "renamed"
    assert "key" not in patched.json()
    # One GCRA state per client: the spent quota is not handed back, but the new
    # limit holds within one of its intervals (0.6 s for 100/minute).
    time.sleep(0.7)
    answer = store_client.post("/v1/predict", json=V1_FEATURES, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["x-ratelimit-limit"] == "100"
    audit = store_client.get("/admin/audit", headers=admin).json()
    assert audit[0]["action"] == "key.update"


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"rate_limit": "0/minute"}, 422), ({"name": ""}, 422), ({"scopes": []}, 422)],
)
def test_bad_key_patches(store_client: TestClient, admin: dict, body: dict, status: int) -> None:
    key = create_key(store_client, admin, ["predict"], "2/minute")
    answer = store_client.patch(f"/admin/keys/{key['id']}", json=body, headers=admin)
    assert answer.status_code == status, answer.text
    assert isinstance(answer.json()["detail"], list)
    unknown = store_client.patch("/admin/keys/nope", json={"name": "x"}, headers=admin)
    assert unknown.status_code == 404
