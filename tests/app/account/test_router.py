"""POST /account/password: the user's own change; other logins end, guessing is throttled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import ADMIN, ADMIN_PASSWORD, create_key, make_settings
from tests.support.payloads import V1_FEATURES

NEW = "an-entirely-new-long-passphrase"


def login(client: TestClient, password: str = ADMIN_PASSWORD) -> dict[str, Any]:
    form = {"grant_type": "password", "username": ADMIN, "password": password}
    response = client.post("/token", data=form)
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['access_token']}"}


def change(client: TestClient, session: dict[str, Any], current: str, new: str) -> Any:
    body = {"current_password": current, "new_password": new}
    return client.post("/account/password", json=body, headers=bearer(session))


def test_a_change_keeps_this_login_and_ends_the_others(store_client: TestClient) -> None:
    mine, other = login(store_client), login(store_client)
    assert change(store_client, mine, ADMIN_PASSWORD, NEW).status_code == 204
    assert (
        store_client.post("/v1/predict", json=V1_FEATURES, headers=bearer(mine)).status_code == 200
    )
    assert (
        store_client.post("/v1/predict", json=V1_FEATURES, headers=bearer(other)).status_code == 401
    )
    refresh = {"grant_type": "refresh_token"}
    assert (
        store_client.post(
            "/token", data={**refresh, "refresh_token": other["refresh_token"]}
        ).status_code
        == 400
    )
    assert (
        store_client.post(
            "/token", data={**refresh, "refresh_token": mine["refresh_token"]}
        ).status_code
        == 200
    )
    login(store_client, NEW)
    old = {"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}
    assert store_client.post("/token", data=old).status_code == 400


def test_a_wrong_current_password_is_a_400_and_changes_nothing(client: TestClient) -> None:
    session = login(client)
    answer = change(client, session, "not-the-password-at-all", NEW)
    assert answer.status_code == 400
    assert answer.json() == {"detail": "current_password is wrong"}
    login(client)  # the old password still works


def test_the_new_password_must_pass_the_policy(client: TestClient) -> None:
    answer = change(client, login(client), ADMIN_PASSWORD, "short")
    assert answer.status_code == 400
    assert "15" in answer.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"current_password": "x" * 1025, "new_password": NEW},
        {"current_password": ADMIN_PASSWORD, "new_password": "y" * 1025},
        {"current_password": ADMIN_PASSWORD},
        {"current_password": ADMIN_PASSWORD, "new_password": NEW, "admin": True},
    ],
)
def test_malformed_bodies_are_422(client: TestClient, body: dict[str, Any]) -> None:
    answer = client.post("/account/password", json=body, headers=bearer(login(client)))
    assert answer.status_code == 422
    assert isinstance(answer.json()["detail"], list)


def test_an_api_key_cannot_change_a_password(client: TestClient) -> None:
    admin = bearer(login(client))
    key = create_key(client, admin, ["admin", "predict"], "100/minute")
    body = {"current_password": ADMIN_PASSWORD, "new_password": NEW}
    answer = client.post("/account/password", json=body, headers={"X-API-Key": key["key"]})
    assert answer.status_code == 403
    assert client.post("/account/password", json=body).status_code == 401


def test_guessing_the_current_password_is_throttled_like_a_login(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "state", login_failure_limit="3/minute")
    with TestClient(create_app(settings)) as client:
        session = login(client)
        statuses = [
            change(client, session, f"guess-number-{n}-wrong", NEW).status_code for n in range(4)
        ]
        assert statuses == [400, 400, 400, 429]
        # The same budget as /token: the right password is refused there now too.
        form = {"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}
        assert client.post("/token", data=form).status_code == 429


def test_failures_at_token_hold_this_endpoint_off_too(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "state", login_failure_limit="2/minute")
    with TestClient(create_app(settings)) as client:
        session = login(client)
        wrong = {"grant_type": "password", "username": ADMIN, "password": "a-wrong-guess-here"}
        assert [client.post("/token", data=wrong).status_code for _ in range(2)] == [400, 400]
        refused = change(client, session, ADMIN_PASSWORD, NEW)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0
        assert refused.headers["ratelimit-policy"].startswith('"login"')
        # Refused before anything was verified or changed.
        predicted = client.post("/v1/predict", json=V1_FEATURES, headers=bearer(session))
        assert predicted.status_code == 200
