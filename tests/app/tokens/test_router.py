"""POST /token and /token/revoke over HTTP, on both credential stores."""

from __future__ import annotations

import base64
import json
import statistics
import time
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from tests.app.conftest import ADMIN, ADMIN_PASSWORD, make_settings
from tests.support.payloads import V1_FEATURES

USER, USER_PASSWORD = "alice", "alice-has-a-long-password"


def _token(client: TestClient, **form: str) -> Any:
    return client.post("/token", data=form)


def _password_grant(client: TestClient, username: str, password: str, **extra: str) -> Any:
    return _token(client, grant_type="password", username=username, password=password, **extra)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(store_client: TestClient) -> dict[str, str]:
    return _bearer(_password_grant(store_client, ADMIN, ADMIN_PASSWORD).json()["access_token"])


@pytest.fixture
def predict_user(store_client: TestClient, admin: dict[str, str]) -> str:
    body = {"username": USER, "password": USER_PASSWORD, "scopes": ["predict"]}
    assert store_client.post("/admin/users", json=body, headers=admin).status_code == 201
    return USER


def test_password_grant_issues_a_jwt_with_every_claim(store_client: TestClient) -> None:
    response = _password_grant(store_client, ADMIN, ADMIN_PASSWORD)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 900
    assert set(body["scope"].split()) == {"admin", "predict"}
    assert body["refresh_token"]
    assert body["refresh_token"] != body["access_token"]
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "HS256"
    assert header["kid"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert {"iss", "aud", "sub", "scope", "iat", "exp", "jti"} <= set(claims)
    assert claims["sub"] == ADMIN
    assert claims["exp"] - claims["iat"] == 900


def test_requested_scope_must_be_a_subset(store_client: TestClient, predict_user: str) -> None:
    narrowed = _password_grant(store_client, ADMIN, ADMIN_PASSWORD, scope="predict")
    assert narrowed.json()["scope"] == "predict"
    widened = _password_grant(store_client, predict_user, USER_PASSWORD, scope="predict admin")
    assert widened.status_code == 400
    assert widened.json()["error"] == "invalid_scope"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": "password", "username": ADMIN}, "invalid_request"),
        ({"grant_type": "refresh_token"}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "made-up"}, "invalid_grant"),
    ],
)
def test_errors_are_rfc6749_bodies(store_client: TestClient, form: dict, error: str) -> None:
    response = _token(store_client, **form)
    assert response.status_code == 400
    assert set(response.json()) == {"error", "error_description"}
    assert response.json()["error"] == error


def test_unknown_user_and_wrong_password_are_indistinguishable(store_client: TestClient) -> None:
    wrong = _password_grant(store_client, ADMIN, "not-the-password")
    unknown = _password_grant(store_client, "nobody-by-this-name", "not-the-password")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.content == unknown.content
    assert wrong.headers.get("content-length") == unknown.headers.get("content-length")


def test_unknown_user_costs_a_password_verification(tmp_path) -> None:
    # Without the dummy verify an unknown user answers ~100x faster than a wrong password.
    from app.main import create_app

    with TestClient(create_app(make_settings(tmp_path, login_failure_limit="1000/minute"))) as c:

        def timed(username: str) -> float:
            started = time.perf_counter()
            _password_grant(c, username, "not-the-password")
            return time.perf_counter() - started

        known = statistics.median(timed(ADMIN) for _ in range(5))
        unknown = statistics.median(timed(f"ghost{i}") for i in range(5))
    assert unknown > known / 3


def test_refresh_rotates_and_reuse_kills_the_family(store_client: TestClient) -> None:
    first = _password_grant(store_client, ADMIN, ADMIN_PASSWORD).json()
    second = _token(store_client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert store_client.get("/v1/model", headers=_bearer(second["access_token"])).status_code == 200

    replay = _token(store_client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The replay revoked the whole family, including the successor nobody had spent.
    successor = _token(
        store_client, grant_type="refresh_token", refresh_token=second["refresh_token"]
    )
    assert successor.status_code == 400


def test_revoked_access_token_is_refused_at_once(store_client: TestClient) -> None:
    token = _password_grant(store_client, ADMIN, ADMIN_PASSWORD).json()["access_token"]
    assert store_client.get("/v1/model", headers=_bearer(token)).status_code == 200
    assert store_client.post("/token/revoke", data={"token": token}).status_code == 200
    refused = store_client.get("/v1/model", headers=_bearer(token))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer ")


def test_revoking_a_refresh_token_kills_its_family(store_client: TestClient) -> None:
    grant = _password_grant(store_client, ADMIN, ADMIN_PASSWORD).json()
    revoked = store_client.post(
        "/token/revoke",
        data={"token": grant["refresh_token"], "token_type_hint": "refresh_token"},
    )
    assert revoked.status_code == 200
    again = _token(store_client, grant_type="refresh_token", refresh_token=grant["refresh_token"])
    assert again.status_code == 400


def test_revoking_garbage_is_still_200_and_says_nothing(store_client: TestClient) -> None:
    answer = store_client.post("/token/revoke", data={"token": "garbage"})
    assert answer.status_code == 200
    assert answer.content == b""
    assert answer.headers["cache-control"] == "no-store"


def test_revoking_without_a_token_is_invalid_request(store_client: TestClient) -> None:
    """RFC 7009 §2.1: ``token`` is REQUIRED."""
    answer = store_client.post("/token/revoke", data={})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize("path", ["/token", "/token/revoke"])
def test_a_json_body_is_refused_saying_it_must_be_form_encoded(
    store_client: TestClient, path: str
) -> None:
    answer = store_client.post(path, json={"grant_type": "password", "token": "x"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "form-encoded" in answer.json()["error_description"]


def test_deleting_a_user_kills_their_tokens(
    store_client: TestClient, admin: dict[str, str], predict_user: str
) -> None:
    grant = _password_grant(store_client, predict_user, USER_PASSWORD).json()
    user = _bearer(grant["access_token"])
    assert store_client.post("/v1/predict", json=V1_FEATURES, headers=user).status_code == 200
    assert store_client.delete(f"/admin/users/{predict_user}", headers=admin).status_code == 204
    assert store_client.post("/v1/predict", json=V1_FEATURES, headers=user).status_code == 401
    refresh = _token(store_client, grant_type="refresh_token", refresh_token=grant["refresh_token"])
    assert refresh.status_code == 400


def test_a_descoped_users_old_token_and_refresh_get_only_what_is_left(
    store_client: TestClient, admin: dict[str, str]
) -> None:
    """The token says ``admin predict``; the user now holds ``predict``: each use of the old
    token and each refresh intersect with what the user holds *now*."""
    body = {"username": "ops", "password": USER_PASSWORD, "scopes": ["admin", "predict"]}
    assert store_client.post("/admin/users", json=body, headers=admin).status_code == 201
    grant = _password_grant(store_client, "ops", USER_PASSWORD).json()
    old = _bearer(grant["access_token"])
    assert store_client.get("/admin/keys", headers=old).status_code == 200

    store = store_client.app.state.services.auth.store  # type: ignore[attr-defined]
    changed = store_client.portal.call(store.set_user_scopes, "ops", frozenset({"predict"}))
    assert changed is not None
    assert changed.scopes == {"predict"}

    deadline = time.monotonic() + 1.0  # every worker applies it within 100 ms (tests/auth)
    while (answer := store_client.get("/admin/keys", headers=old)).status_code == 200:
        assert time.monotonic() < deadline, "the old token kept its admin scope"
        time.sleep(0.02)
    assert answer.status_code == 403
    assert store_client.post("/v1/predict", json=V1_FEATURES, headers=old).status_code == 200

    refreshed = _token(
        store_client, grant_type="refresh_token", refresh_token=grant["refresh_token"]
    )
    assert refreshed.status_code == 200
    assert refreshed.json()["scope"] == "predict"
    new = _bearer(refreshed.json()["access_token"])
    assert (
        jwt.decode(refreshed.json()["access_token"], options={"verify_signature": False})["scope"]
        == "predict"
    )
    assert store_client.get("/admin/keys", headers=new).status_code == 403
    assert store_client.post("/v1/predict", json=V1_FEATURES, headers=new).status_code == 200


def _forge(claims: dict[str, Any], key: str = "secret", alg: str = "HS256", **header: Any) -> str:
    return jwt.encode(claims, key, algorithm=alg, headers=header or None)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_forged_tokens_are_refused(store_client: TestClient) -> None:
    real = _password_grant(store_client, ADMIN, ADMIN_PASSWORD).json()["access_token"]
    header = jwt.get_unverified_header(real)
    claims = jwt.decode(real, options={"verify_signature": False})
    head, payload, signature = real.split(".")
    now = int(time.time())
    forged = {
        "alg none": f"{_b64({'alg': 'none', 'typ': header.get('typ'), 'kid': header['kid']})}"
        f".{payload}.",
        "bad signature": f"{head}.{payload}.{signature[::-1]}",
        "edited claims": f"{head}.{_b64({**claims, 'sub': 'mallory'})}.{signature}",
        "guessable secret": _forge(claims, "secret", kid=header["kid"], typ=header.get("typ")),
        "changeme secret": _forge(claims, "changeme", kid=header["kid"], typ=header.get("typ")),
        "expired": _forge({**claims, "exp": now - 3600}, kid=header["kid"]),
        "HS512": _forge(claims, "x" * 64, "HS512", kid=header["kid"], typ=header.get("typ")),
        "wrong aud": _forge({**claims, "aud": "someone-else"}, kid=header["kid"]),
        "wrong iss": _forge({**claims, "iss": "someone-else"}, kid=header["kid"]),
        "not a jwt": "not.a.jwt",
    }
    for name, token in forged.items():
        response = store_client.get("/v1/model", headers=_bearer(token))
        assert response.status_code == 401, name
        assert "invalid_token" in response.headers["www-authenticate"], name


def test_missing_credentials_get_a_challenge(store_client: TestClient) -> None:
    response = store_client.post("/v1/predict", json=V1_FEATURES)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="housing-api"'


def test_failed_logins_are_throttled_and_successes_never(tmp_path) -> None:
    from app.main import create_app

    settings = make_settings(tmp_path, login_failure_limit="3/day", auth_failure_limit="5/day")
    with TestClient(create_app(settings)) as c:
        for _ in range(6):  # successes never count
            assert _password_grant(c, ADMIN, ADMIN_PASSWORD).status_code == 200
        for _ in range(3):
            assert _password_grant(c, "ghost", "wrong-password").status_code == 400
        throttled = _password_grant(c, "ghost", "wrong-password")
        assert throttled.status_code == 429
        assert throttled.json()["error"] == "slow_down"
        assert int(throttled.headers["retry-after"]) > 0
        # Another account from the same address still gets tried, up to the address's budget:
        # one host spraying accounts is bounded too.
        assert [_password_grant(c, f"ghost{n}", "wrong").status_code for n in range(3)] == [
            400,
            400,
            429,
        ]
        assert _password_grant(c, ADMIN, ADMIN_PASSWORD).status_code == 429


def test_concurrent_guesses_cannot_outrun_the_throttle(tmp_path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from app.main import create_app
    from app.ratelimit.throttle import DEFAULT_CONCURRENCY

    limit = 5
    settings = make_settings(tmp_path, login_failure_limit=f"{limit}/minute")
    with TestClient(create_app(settings)) as c, ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(
            pool.map(lambda _: _password_grant(c, ADMIN, "wrong-guess").status_code, range(40))
        )
    verified = statuses.count(400)
    assert statuses.count(429) == 40 - verified
    # Each slot may hold one attempt that checked before the last failure was counted.
    assert verified <= limit + DEFAULT_CONCURRENCY - 1


def test_the_per_address_limit_answers_the_rfc6749_way(tmp_path) -> None:
    from app.main import create_app

    settings = make_settings(tmp_path, anonymous_rate_limit="2/minute")
    with TestClient(create_app(settings)) as c:
        for _ in range(2):
            assert c.post("/token/revoke", data={"token": "x"}).status_code == 200
        refused = _token(c, grant_type="password", username=ADMIN, password=ADMIN_PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["error"] == "slow_down"
    assert set(refused.json()) == {"error", "error_description"}
    assert refused.headers["cache-control"] == "no-store"
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["x-ratelimit-limit"] == "2"


@pytest.mark.parametrize("length", [4097, 20_000])
def test_an_over_long_password_is_the_same_400_for_known_and_unknown_users(
    store_client: TestClient, length: int
) -> None:
    """It was a 500 in 20 ms for an unknown user and a 400 after 0.5 s for a known one."""
    known = _password_grant(store_client, ADMIN, "x" * length)
    unknown = _password_grant(store_client, "nobody-at-all", "x" * length)
    assert known.status_code == unknown.status_code == 400
    assert known.content == unknown.content
    assert known.json()["error"] == "invalid_grant"
