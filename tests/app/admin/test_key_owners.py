"""Keys belong to the user who made them: deleting that user stops them, on both stores."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.app.conftest import ADMIN, ADMIN_PASSWORD, create_key, password_token
from tests.support.payloads import V1_FEATURES

OPS_PASSWORD = "another long passphrase"


def test_deleting_a_user_stops_the_keys_it_made(store_client: TestClient) -> None:
    root = {"Authorization": f"Bearer {password_token(store_client, ADMIN, ADMIN_PASSWORD)}"}
    made = store_client.post(
        "/admin/users",
        json={"username": "ops", "password": OPS_PASSWORD, "scopes": ["admin", "predict"]},
        headers=root,
    )
    assert made.status_code == 201, made.text
    ops = {"Authorization": f"Bearer {password_token(store_client, 'ops', OPS_PASSWORD)}"}
    ops_key = create_key(store_client, ops, ["admin", "predict"], "50/minute")["key"]
    # A key made by ops's key is ops's too; a key made by root is not.
    by_key = create_key(store_client, {"X-API-Key": ops_key}, ["predict"], "50/minute")["key"]
    roots = create_key(store_client, root, ["predict"], "50/minute")["key"]

    def status(key: str) -> int:
        return store_client.post(
            "/v1/predict", json=V1_FEATURES, headers={"X-API-Key": key}
        ).status_code

    assert [status(k) for k in (ops_key, by_key, roots)] == [200, 200, 200]
    assert store_client.delete("/admin/users/ops", headers=root).status_code == 204
    assert [status(k) for k in (ops_key, by_key, roots)] == [401, 401, 200]
