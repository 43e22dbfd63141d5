"""An app on the real trained models, with its own state and a real first admin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO / "models"
ADMIN = "root-admin"
ADMIN_PASSWORD = "a-long-test-passphrase"


def make_settings(state_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "state_dir": state_dir,
        "models_dir": MODELS_DIR,
        "first_admin_username": ADMIN,
        "first_admin_password": ADMIN_PASSWORD,
        "default_rate_limit": "10000/minute",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "state")


@pytest.fixture(params=["sqlite", "redis"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The app's settings on each credential store: the SQLite file, then a real Redis."""
    if request.param == "sqlite":
        return make_settings(tmp_path / "state")
    return make_settings(tmp_path / "state", redis_url=request.getfixturevalue("redis_url"))


@pytest.fixture
def store_client(store_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(store_settings)) as test_client:
        yield test_client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def password_token(client: TestClient, username: str, password: str, scope: str = "") -> str:
    form = {"grant_type": "password", "username": username, "password": password}
    if scope:
        form["scope"] = scope
    response = client.post("/token", data=form)
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def admin_headers(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}


def create_key(
    client: TestClient, admin_headers: dict[str, str], scopes: list[str], rate_limit: str
) -> dict[str, Any]:
    body = {"name": f"test {' '.join(scopes)}", "scopes": scopes, "rate_limit": rate_limit}
    response = client.post("/admin/keys", json=body, headers=admin_headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.fixture
def predict_headers(client: TestClient, admin_headers: dict[str, str]) -> dict[str, str]:
    key = create_key(client, admin_headers, ["predict"], "100000/minute")
    return {"X-API-Key": key["key"]}
