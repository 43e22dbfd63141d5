"""/admin/* over HTTP, on both credential stores."""

from __future__ import annotations

import sqlite3

import pytest
import redis
from fastapi.testclient import TestClient

from app.backends import SQLITE_FILE
from app.settings import Settings
from tests.app.conftest import ADMIN, ADMIN_PASSWORD, create_key, password_token
from tests.support.payloads import V1_FEATURES

SECRET_FIELDS = {"key", "secret", "secret_digest", "password", "password_hash"}


@pytest.fixture
def admin(store_client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {password_token(store_client, ADMIN, ADMIN_PASSWORD)}"}


def test_key_is_shown_once_and_never_listed(store_client: TestClient, admin: dict) -> None:
    created = create_key(store_client, admin, ["predict"], "50/minute")
    assert created["key"].startswith("hpk_")
    assert {"id", "name", "prefix", "scopes", "rate_limit", "created_at", "expires_at"} <= set(
        created
    )
    assert created["key"].startswith(created["prefix"])
    listing = store_client.get("/admin/keys", headers=admin)
    assert listing.status_code == 200
    assert created["key"] not in listing.text
    for key in listing.json():
        assert not SECRET_FIELDS & set(key)
    one = store_client.get(f"/admin/keys/{created['id']}", headers=admin).json()
    assert one["last_used_at"] is None
    assert one["revoked_at"] is None
    assert created["key"] not in str(one)


def test_key_predicts_and_records_its_use(store_client: TestClient, admin: dict) -> None:
    created = create_key(store_client, admin, ["predict"], "50/minute")
    used = store_client.post("/v1/predict", json=V1_FEATURES, headers={"X-API-Key": created["key"]})
    assert used.status_code == 200
    assert used.headers["x-ratelimit-limit"] == "50"
    assert used.headers["x-ratelimit-remaining"] == "49"
    one = store_client.get(f"/admin/keys/{created['id']}", headers=admin).json()
    assert one["last_used_at"] is not None


def test_revoke_refuses_the_key_at_once(store_client: TestClient, admin: dict) -> None:
    created = create_key(store_client, admin, ["predict"], "50/minute")
    key = {"X-API-Key": created["key"]}
    assert store_client.post("/v1/predict", json=V1_FEATURES, headers=key).status_code == 200
    assert store_client.delete(f"/admin/keys/{created['id']}", headers=admin).status_code == 204
    refused = store_client.post("/v1/predict", json=V1_FEATURES, headers=key)
    assert refused.status_code == 401
    assert "www-authenticate" in refused.headers
    one = store_client.get(f"/admin/keys/{created['id']}", headers=admin).json()
    assert one["revoked_at"] is not None


def test_rotate_gives_a_new_secret_for_the_same_key(store_client: TestClient, admin: dict) -> None:
    created = create_key(store_client, admin, ["predict"], "50/minute")
    rotated = store_client.post(f"/admin/keys/{created['id']}/rotate", headers=admin)
    assert rotated.status_code == 201
    rotated = rotated.json()
    assert rotated["id"] == created["id"]
    assert rotated["key"] != created["key"]
    assert (rotated["scopes"], rotated["rate_limit"]) == (created["scopes"], "50/minute")
    old = store_client.post("/v1/predict", json=V1_FEATURES, headers={"X-API-Key": created["key"]})
    new = store_client.post("/v1/predict", json=V1_FEATURES, headers={"X-API-Key": rotated["key"]})
    assert (old.status_code, new.status_code) == (401, 200)


def test_unknown_key_is_404(store_client: TestClient, admin: dict) -> None:
    for method, path in [
        ("GET", "/admin/keys/nope"),
        ("DELETE", "/admin/keys/nope"),
        ("POST", "/admin/keys/nope/rotate"),
    ]:
        assert store_client.request(method, path, headers=admin).status_code == 404, path


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scopes": ["root"], "rate_limit": "1/minute"},
        {"name": "x", "scopes": ["predict"], "rate_limit": "lots"},
        {"name": "x", "scopes": ["predict"], "rate_limit": "0/minute"},
        {"name": "x", "scopes": [], "rate_limit": "1/minute"},
        {"name": "x", "scopes": ["predict"], "expires_in_days": 0},
        {"name": "", "scopes": ["predict"]},
        {"name": "x", "scopes": ["predict"], "id": "chosen"},
    ],
)
def test_bad_key_requests_are_422(store_client: TestClient, admin: dict, body: dict) -> None:
    assert store_client.post("/admin/keys", json=body, headers=admin).status_code == 422


def test_scopes_are_enforced_both_ways(store_client: TestClient, admin: dict) -> None:
    predict_only = {"X-API-Key": create_key(store_client, admin, ["predict"], "50/minute")["key"]}
    admin_only = {"X-API-Key": create_key(store_client, admin, ["admin"], "50/minute")["key"]}
    forbidden = store_client.get("/admin/keys", headers=predict_only)
    assert forbidden.status_code == 403
    assert 'error="insufficient_scope"' in forbidden.headers["www-authenticate"]
    assert store_client.post("/v1/predict", json=V1_FEATURES, headers=admin_only).status_code == 403
    assert store_client.get("/admin/keys", headers=admin_only).status_code == 200


def test_users_lifecycle(store_client: TestClient, admin: dict) -> None:
    body = {"username": "bob", "password": "bob-long-password", "scopes": ["predict"]}
    created = store_client.post("/admin/users", json=body, headers=admin)
    assert created.status_code == 201
    assert created.json()["username"] == "bob"
    assert created.json()["scopes"] == ["predict"]
    assert "bob-long-password" not in created.text
    assert "argon2" not in created.text
    assert store_client.post("/admin/users", json=body, headers=admin).status_code == 409
    listing = store_client.get("/admin/users", headers=admin)
    assert {u["username"] for u in listing.json()} == {ADMIN, "bob"}
    assert "argon2" not in listing.text
    assert store_client.delete("/admin/users/bob", headers=admin).status_code == 204
    assert store_client.delete("/admin/users/bob", headers=admin).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"username": "bad name", "password": "long-enough-pw", "scopes": ["predict"]},
        {"username": "carol", "password": "short", "scopes": ["predict"]},
        {"username": "carol", "password": "long-enough-pw", "scopes": ["god"]},
    ],
)
def test_bad_user_requests_are_422(store_client: TestClient, admin: dict, body: dict) -> None:
    assert store_client.post("/admin/users", json=body, headers=admin).status_code == 422


def test_audit_lists_admin_actions_newest_first(store_client: TestClient, admin: dict) -> None:
    created = create_key(store_client, admin, ["predict"], "5/minute")
    store_client.delete(f"/admin/keys/{created['id']}", headers=admin)
    audit = store_client.get("/admin/audit?limit=2", headers=admin)
    assert audit.status_code == 200
    newest, older = audit.json()
    assert (newest["action"], newest["target"]) == ("key.revoke", created["id"])
    assert (older["action"], older["target"]) == ("key.create", created["id"])
    assert newest["actor"] == f"user:{ADMIN}"
    assert newest["client_ip"] == "testclient"
    assert store_client.get("/admin/audit?limit=0", headers=admin).status_code == 422


def test_the_store_holds_no_secret_in_clear(
    store_client: TestClient, store_settings: Settings, admin: dict
) -> None:
    key = create_key(store_client, admin, ["predict"], "5/minute")["key"]
    grant = store_client.post(
        "/token", data={"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}
    ).json()
    secrets = [ADMIN_PASSWORD, key, grant["refresh_token"], key.split("_", 1)[1]]
    if store_settings.redis_url:
        dump = _redis_contents(redis.Redis.from_url(store_settings.redis_url))
    else:
        path = store_settings.state_dir / SQLITE_FILE
        sqlite3.connect(path).execute("PRAGMA wal_checkpoint(FULL)").close()
        dump = b"".join(p.read_bytes() for p in path.parent.glob(f"{SQLITE_FILE}*"))
    assert dump
    for secret in secrets:
        assert secret.encode() not in dump


def _redis_contents(client: redis.Redis) -> bytes:
    """Every key and every value, read by type (DUMP may compress what it holds)."""
    readers = {
        b"string": lambda name: [client.get(name)],
        b"hash": lambda name: [b for kv in client.hgetall(name).items() for b in kv],
        b"list": lambda name: client.lrange(name, 0, -1),
        b"set": lambda name: list(client.smembers(name)),
        b"zset": lambda name: client.zrange(name, 0, -1),
    }
    parts: list[bytes] = []
    for name in client.scan_iter(count=1000):
        parts.append(name)
        parts.extend(readers[client.type(name)](name))
    return b"\n".join(parts)
