"""The inference endpoints: answers, batches, and a table of refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import ADMIN, ADMIN_PASSWORD, create_key, make_settings, password_token
from tests.support.payloads import V1_FEATURES, V2_FEATURES


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module (predictions are stateless), sending a predict-scoped key."""
    settings = make_settings(tmp_path_factory.mktemp("predict"))
    with TestClient(create_app(settings)) as client:
        admin = {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}
        key = create_key(client, admin, ["predict"], "100000/minute")
        client.headers["X-API-Key"] = key["key"]
        yield client


def _post(client: TestClient, path: str, body: Any) -> Any:
    raw = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, content=raw, headers={"content-type": "application/json"})


@pytest.mark.parametrize(("version", "body"), [("v1", V1_FEATURES), ("v2", V2_FEATURES)])
def test_predict_answers_a_plausible_price(api: TestClient, version: str, body: dict) -> None:
    response = _post(api, f"/{version}/predict", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["model_version"] == version
    assert 25_000 < answer["predicted_price"] < 190_000


def test_more_lot_and_bathrooms_cost_more(api: TestClient) -> None:
    small = _post(api, "/v1/predict", V1_FEATURES).json()["predicted_price"]
    large = _post(api, "/v1/predict", {**V1_FEATURES, "lotsize": 12000, "bathrms": 3}).json()
    assert large["predicted_price"] > small


@pytest.mark.parametrize(("version", "base"), [("v1", V1_FEATURES), ("v2", V2_FEATURES)])
def test_batch_equals_singles_in_order(api: TestClient, version: str, base: dict) -> None:
    instances = [
        {**base, "lotsize": 2000 + 750 * i, "bedrooms": 1 + i % 5, "garagepl": i % 4}
        for i in range(12)
    ]
    batch = _post(api, f"/{version}/predict/batch", {"instances": instances})
    assert batch.status_code == 200, batch.text
    singles = [_post(api, f"/{version}/predict", x).json() for x in instances]
    assert batch.json() == {
        "predictions": [single["predicted_price"] for single in singles],
        "model_version": version,
        "out_of_training_range": [single["out_of_training_range"] for single in singles],
    }


@pytest.mark.parametrize(("version", "base"), [("v1", V1_FEATURES), ("v2", V2_FEATURES)])
def test_every_answer_names_the_features_it_extrapolates_on(
    api: TestClient, version: str, base: dict
) -> None:
    inside = _post(api, f"/{version}/predict", base).json()
    assert inside["out_of_training_range"] == []
    beyond = {**base, "lotsize": 25_000, "bedrooms": 8}
    outside = _post(api, f"/{version}/predict", beyond).json()
    assert outside["out_of_training_range"] == ["lotsize", "bedrooms"]
    batch = _post(api, f"/{version}/predict/batch", {"instances": [base, beyond]}).json()
    assert batch["out_of_training_range"] == [[], ["lotsize", "bedrooms"]]


def test_integral_floats_count_as_integers(api: TestClient) -> None:
    """What pandas sends for a float column: 3.0 is three bedrooms; 2.7 is refused above."""
    as_floats = {**V1_FEATURES, "bedrooms": 3.0, "bathrms": 1.0, "stories": 2.0, "garagepl": 1.0}
    response = _post(api, "/v1/predict", as_floats)
    assert response.status_code == 200, response.text
    assert response.json() == _post(api, "/v1/predict", V1_FEATURES).json()


def test_the_old_absurd_input_is_refused_not_priced(api: TestClient) -> None:
    """lot 1,000,000 sq ft and 20 of everything once priced at 9.6e37 CAD."""
    body = {"lotsize": 1_000_000, "bedrooms": 20, "bathrms": 20, "stories": 10, "garagepl": 20}
    response = _post(api, "/v1/predict", body)
    assert response.status_code == 422
    refused = {error["loc"][-1] for error in response.json()["detail"]}
    assert refused == set(body)


def test_largest_legal_batch_is_accepted(api: TestClient) -> None:
    response = _post(api, "/v2/predict/batch", {"instances": [V2_FEATURES] * 1000})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 1000


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_model_metadata(api: TestClient, version: str) -> None:
    info = api.get(f"/{version}/model").json()
    assert info["version"] == version
    assert info["role"] == ("champion" if version == "v1" else "challenger")
    assert len(info["artifact_sha256"]) == 64
    assert {"cv5", "holdout"} <= set(info["metrics"])
    assert {"cv5", "holdout"} <= set(info["baseline"])
    lotsize = info["features"][0]
    assert lotsize["name"] == "lotsize"
    assert lotsize["type"] == "number"
    assert lotsize["allowed_min"] == 1_000
    assert lotsize["allowed_max"] == 30_000
    assert "libraries" not in info


def test_library_versions_are_shown_to_admins_only(
    client: TestClient, admin_headers: dict[str, str], predict_headers: dict[str, str]
) -> None:
    assert "libraries" not in client.get("/v1/model", headers=predict_headers).json()
    libraries = client.get("/v2/model", headers=admin_headers).json()["libraries"]
    assert {"python", "numpy", "scikit-learn", "joblib"} <= set(libraries)


def _v1_text_with_lotsize(literal: str) -> str:
    """V1_FEATURES as JSON text with lotsize written verbatim (1e999 overflows on parse)."""
    rest = json.dumps({k: v for k, v in V1_FEATURES.items() if k != "lotsize"})
    return f'{{"lotsize": {literal}, {rest[1:]}'


BAD_INPUTS = [
    ("/v1/predict", _v1_text_with_lotsize("1e999"), "lotsize"),
    ("/v1/predict", _v1_text_with_lotsize("-1e999"), "lotsize"),
    ("/v1/predict", _v1_text_with_lotsize("NaN"), "lotsize"),
    ("/v1/predict", _v1_text_with_lotsize("Infinity"), "lotsize"),
    ("/v1/predict", {**V1_FEATURES, "bedrooms": 2.7}, "bedrooms"),
    ("/v1/predict", {**V1_FEATURES, "bedrooms": "3"}, "bedrooms"),
    ("/v1/predict", {**V1_FEATURES, "bedrooms": True}, "bedrooms"),
    ("/v1/predict", {**V1_FEATURES, "bedrooms": -1}, "bedrooms"),
    ("/v1/predict", {**V1_FEATURES, "bedrooms": 10**30}, "bedrooms"),
    ("/v1/predict", {**V1_FEATURES, "bathrms": 6}, "bathrms"),
    ("/v1/predict", {**V1_FEATURES, "bedrooms": 0}, "bedrooms"),
    ("/v1/predict", {**V1_FEATURES, "lotsize": 30_001}, "lotsize"),
    ("/v1/predict", {**V1_FEATURES, "stories": 5}, "stories"),
    ("/v1/predict", {**V1_FEATURES, "garagepl": 5}, "garagepl"),
    ("/v1/predict", {**V1_FEATURES, "garagepl": 1.5}, "garagepl"),
    ("/v1/predict", {**V1_FEATURES, "stories": 0}, "stories"),
    ("/v1/predict", {**V1_FEATURES, "garagepl": None}, "garagepl"),
    ("/v1/predict", {**V1_FEATURES, "lotsize": 0}, "lotsize"),
    ("/v1/predict", {**V1_FEATURES, "lotsize": 1e308}, "lotsize"),
    ("/v1/predict", {**V1_FEATURES, "lotsize": "5850"}, "lotsize"),
    ("/v1/predict", {**V1_FEATURES, "price": 1}, "price"),
    ("/v1/predict", {k: v for k, v in V1_FEATURES.items() if k != "stories"}, "stories"),
    ("/v1/predict", [V1_FEATURES], "body"),
    ("/v1/predict", "not json", "body"),
    ("/v2/predict", V1_FEATURES, "driveway"),
    ("/v2/predict", {**V2_FEATURES, "airco": "yes"}, "airco"),
    ("/v2/predict", {**V2_FEATURES, "airco": 1}, "airco"),
    ("/v1/predict/batch", {"instances": []}, "instances"),
    ("/v1/predict/batch", {"instances": [V1_FEATURES] * 1001}, "instances"),
    (
        "/v1/predict/batch",
        {"instances": [V1_FEATURES, {**V1_FEATURES, "lotsize": "NaN"}]},
        "instances.1.lotsize",
    ),
    ("/v1/predict/batch", {"instances": [V1_FEATURES], "extra": 1}, "extra"),
    ("/v1/predict/batch", V1_FEATURES, "instances"),
]


@pytest.mark.parametrize(("path", "body", "field"), BAD_INPUTS)
def test_bad_input_is_a_422_naming_the_field(
    api: TestClient, path: str, body: Any, field: str
) -> None:
    response = _post(api, path, body)
    assert response.status_code == 422, response.text
    messages = [error["msg"] for error in response.json()["detail"]]
    assert any(message.startswith(f"{field}") for message in messages), messages


def test_refusals_never_echo_the_input(api: TestClient) -> None:
    response = _post(api, "/v1/predict", {**V1_FEATURES, "lotsize": "<script>alert(1)</script>"})
    assert response.status_code == 422
    assert "script" not in response.text


@pytest.mark.parametrize(
    "headers", [{}, {"X-API-Key": "hpk_not_a_real_key"}, {"Authorization": "Bearer nope"}]
)
def test_no_valid_credential_is_401_before_the_body_is_read(
    client: TestClient, headers: dict[str, str]
) -> None:
    # An anonymous caller learns nothing about the schema: 401, never a 422.
    for body in ("not json", '{"lotsize": 1e999}', json.dumps(V1_FEATURES)):
        response = client.post(
            "/v1/predict", content=body, headers={"content-type": "application/json", **headers}
        )
        assert response.status_code == 401, (body, headers, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
