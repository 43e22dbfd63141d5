"""docs/client.py against the real service: login, predictions, renewal, retries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from docs.client import (
    ApiError,
    ApiKeyAuth,
    HousingClient,
    PasswordGrant,
    RetryLater,
    TokenAuth,
    retry_after,
)
from tests.docs.conftest import ACCESS_TOKEN_TTL_SECONDS, ADMIN, ADMIN_PASSWORD
from tests.support.payloads import V1_FEATURES, V2_FEATURES
from tests.support.service import ServedApi


@dataclass(frozen=True, slots=True)
class Exchange:
    path: str
    form: dict[str, str]
    authorization: str | None
    status: int
    body: Any
    retry_after: str | None


class Recorder:
    """Every request the client sends on the wire, and its answer (httpx event hooks)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def hooks(self) -> dict[str, list[Any]]:
        return {"response": [self._record]}

    def _record(self, response: httpx.Response) -> None:
        response.read()
        request = response.request
        form = {}
        if request.headers.get("content-type") == "application/x-www-form-urlencoded":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        try:
            body = response.json()
        except ValueError:
            body = response.text
        self.exchanges.append(
            Exchange(
                request.url.path,
                form,
                request.headers.get("authorization"),
                response.status_code,
                body,
                response.headers.get("retry-after"),
            )
        )

    def grants(self) -> list[str]:
        return [e.form["grant_type"] for e in self.exchanges if e.path == "/token"]

    def statuses(self, path: str) -> list[int]:
        return [e.status for e in self.exchanges if e.path == path]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def http(recorder: Recorder) -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, event_hooks=recorder.hooks()) as client:
        yield client


def admin_auth(**options: Any) -> TokenAuth:
    return TokenAuth(PasswordGrant(ADMIN, ADMIN_PASSWORD), **options)


def new_key(service: ServedApi, rate_limit: str) -> str:
    with httpx.Client(base_url=service.base_url) as admin:
        login = admin.post(
            "/token", data={"grant_type": "password", "username": ADMIN, "password": ADMIN_PASSWORD}
        )
        created = admin.post(
            "/admin/keys",
            json={"name": f"client {rate_limit}", "scopes": ["predict"], "rate_limit": rate_limit},
            headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        )
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def direct_price(service: ServedApi, key: str, house: dict[str, Any], version: str) -> float:
    answer = httpx.post(
        f"{service.base_url}/{version}/predict", json=house, headers={"X-API-Key": key}
    )
    assert answer.status_code == 200, answer.text
    return float(answer.json()["predicted_price"])


def test_logs_in_once_and_predicts(
    service: ServedApi, http: httpx.Client, recorder: Recorder
) -> None:
    key = new_key(service, "1000/minute")
    with HousingClient(service.base_url, admin_auth(), http=http) as api:
        v1 = api.predict(V1_FEATURES)
        v2 = api.predict(V2_FEATURES, version="v2")
        model = api.model("v2")
    assert v1.price == direct_price(service, key, V1_FEATURES, "v1")
    assert v2.price == direct_price(service, key, V2_FEATURES, "v2")
    assert (v1.model_version, v2.model_version) == ("v1", "v2")
    assert v1.out_of_training_range == []
    assert model["version"] == "v2"
    assert len(model["features"]) == len(V2_FEATURES)
    assert recorder.grants() == ["password"]


def test_a_batch_of_any_length_goes_in_requests_of_at_most_1000_in_order(
    service: ServedApi, http: httpx.Client, recorder: Recorder
) -> None:
    houses = [{**V1_FEATURES, "lotsize": 1500 + 11 * i} for i in range(2345)]
    auth = ApiKeyAuth(new_key(service, "100/minute"))
    with HousingClient(service.base_url, auth, http=http) as api:
        predictions = api.predict_batch(houses)
    assert [len(e.body["predictions"]) for e in recorder.exchanges] == [1000, 1000, 345]
    assert len(predictions) == len(houses)
    key = new_key(service, "100/minute")
    for index in (0, 999, 1000, 2344):
        assert predictions[index].price == direct_price(service, key, houses[index], "v1")
    prices = [p.price for p in predictions]
    assert prices == sorted(prices), "bigger lots cost more, in the order sent"
    assert predictions[-1].out_of_training_range == ["lotsize"]  # 27,284 sq ft: beyond training


def test_the_access_token_is_renewed_before_it_expires_and_refresh_tokens_rotate(
    service: ServedApi, http: httpx.Client, recorder: Recorder
) -> None:
    margin = ACCESS_TOKEN_TTL_SECONDS - 1  # renew one second after each token was asked for
    with HousingClient(service.base_url, admin_auth(refresh_margin=margin), http=http) as api:
        for _ in range(3):
            api.predict(V1_FEATURES)
            time.sleep(1.2)
    tokens = [e for e in recorder.exchanges if e.path == "/token"]
    assert [e.form["grant_type"] for e in tokens] == ["password", "refresh_token", "refresh_token"]
    assert tokens[1].form["refresh_token"] == tokens[0].body["refresh_token"]
    assert tokens[2].form["refresh_token"] == tokens[1].body["refresh_token"]  # the rotated one
    used = [e.authorization for e in recorder.exchanges if e.path == "/v1/predict"]
    assert used == [f"Bearer {t.body['access_token']}" for t in tokens]
    assert recorder.statuses("/v1/predict") == [200, 200, 200], "renewed before, not after, a 401"


def test_a_revoked_access_token_is_renewed_once_and_the_call_tried_again(
    service: ServedApi, http: httpx.Client, recorder: Recorder
) -> None:
    with HousingClient(service.base_url, admin_auth(), http=http) as api:
        api.predict(V1_FEATURES)
        access = recorder.exchanges[0].body["access_token"]
        assert httpx.post(f"{service.base_url}/token/revoke", data={"token": access}).is_success
        again = api.predict(V1_FEATURES)
    assert again.model_version == "v1"
    assert recorder.statuses("/v1/predict") == [200, 401, 200]
    assert recorder.grants() == ["password", "refresh_token"]


def test_a_login_revoked_by_its_refresh_token_falls_back_to_the_grant(
    service: ServedApi, http: httpx.Client, recorder: Recorder
) -> None:
    with HousingClient(service.base_url, admin_auth(), http=http) as api:
        api.predict(V1_FEATURES)
        spent = recorder.exchanges[0].body["refresh_token"]
        assert httpx.post(f"{service.base_url}/token/revoke", data={"token": spent}).is_success
        api.predict(V1_FEATURES)
    assert recorder.statuses("/v1/predict") == [200, 401, 200]
    assert recorder.grants() == ["password", "refresh_token", "password"]
    assert recorder.statuses("/token") == [200, 400, 200]


def test_a_429_is_retried_after_its_retry_after(
    service: ServedApi, http: httpx.Client, recorder: Recorder
) -> None:
    auth = ApiKeyAuth(new_key(service, "1/second"))
    started = time.monotonic()
    with HousingClient(service.base_url, auth, http=http, max_attempts=2) as api:
        prices = [api.predict(V1_FEATURES).price for _ in range(3)]
    took = time.monotonic() - started
    assert len(set(prices)) == 1
    assert recorder.statuses("/v1/predict") == [200, 429, 200, 429, 200]
    assert [e.retry_after for e in recorder.exchanges if e.status == 429] == ["1", "1"]
    assert took >= 2.0, "each retry waited the second the server asked for"


def test_retries_are_bounded_by_attempts_and_by_the_longest_wait(
    service: ServedApi, http: httpx.Client, recorder: Recorder
) -> None:
    auth = ApiKeyAuth(new_key(service, "1/minute"))
    with HousingClient(service.base_url, auth, http=http, max_attempts=5, max_wait=10) as api:
        api.predict(V1_FEATURES)
        started = time.monotonic()
        with pytest.raises(RetryLater) as too_long:
            api.predict(V1_FEATURES)
    assert time.monotonic() - started < 1, "a wait over max_wait is not waited"
    assert 55 <= too_long.value.retry_after <= 60
    assert too_long.value.status_code == 429

    auth = ApiKeyAuth(new_key(service, "1/second"))
    with HousingClient(service.base_url, auth, http=http, max_attempts=1) as api:
        api.predict(V1_FEATURES)
        with pytest.raises(RetryLater):
            api.predict(V1_FEATURES)
    assert recorder.statuses("/v1/predict")[-2:] == [200, 429], "one attempt: no retry"


def test_errors_carry_the_status_and_the_body(service: ServedApi, http: httpx.Client) -> None:
    with (
        HousingClient(service.base_url, admin_auth(), http=http) as api,
        pytest.raises(ApiError) as invalid,
    ):
        api.predict({**V1_FEATURES, "bedrooms": 2.5})
    assert invalid.value.status_code == 422
    assert invalid.value.body["detail"][0]["loc"] == ["body", "bedrooms"]

    wrong = TokenAuth(PasswordGrant(ADMIN, "not-the-admin-passphrase"))
    with (
        HousingClient(service.base_url, wrong, http=http) as api,
        pytest.raises(ApiError) as refused,
    ):
        api.predict(V1_FEATURES)
    assert refused.value.status_code == 400
    assert refused.value.body["error"] == "invalid_grant"


def test_a_narrower_scope_is_asked_for_in_the_grant(
    service: ServedApi, http: httpx.Client, recorder: Recorder
) -> None:
    grant = PasswordGrant(ADMIN, ADMIN_PASSWORD, scope="predict")
    assert ADMIN_PASSWORD not in repr(grant)
    with HousingClient(service.base_url, TokenAuth(grant), http=http) as api:
        assert api.predict(V1_FEATURES).model_version == "v1"
    assert recorder.exchanges[0].body["scope"] == "predict"  # the admin's token, without admin


def in_seconds(offset: float) -> str:
    return format_datetime(datetime.now(UTC) + timedelta(seconds=offset), usegmt=True)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), (30, 30.0), (-30, 0.0), ("soon", 1.0), (None, 1.0)],
)
def test_retry_after_reads_seconds_or_a_date(header: str | int | None, seconds: float) -> None:
    """An int stands for an HTTP date that many seconds from now (made when the test runs)."""
    value = in_seconds(header) if isinstance(header, int) else header
    headers = {"Retry-After": value} if value is not None else {}
    assert retry_after(httpx.Response(429, headers=headers)) == pytest.approx(seconds, abs=1.5)
