"""Over the whole accepted box, every answer is a finite, plausible price (hypothesis).

The bounds come from the feature specs the wire schemas are built from, so
tightening or widening them keeps this test honest. Plausible: a 1987
Windsor house, 10,000 to 600,000 CAD (the data's sales span 25,000 to
190,000; the largest accepted house is far outside it, hence the margin).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.main import create_app
from app.ml.features import FEATURES, FeatureSpec
from app.ml.registry import ModelRegistry
from tests.app.conftest import (
    ADMIN,
    ADMIN_PASSWORD,
    MODELS_DIR,
    create_key,
    make_settings,
    password_token,
)

LOW, HIGH = 10_000, 600_000
REGISTRY = ModelRegistry.load(MODELS_DIR)


def _value(spec: FeatureSpec) -> st.SearchStrategy[object]:
    if spec.type == "boolean":
        return st.booleans()
    assert spec.allowed_min is not None
    assert spec.allowed_max is not None
    if spec.type == "integer":
        return st.integers(int(spec.allowed_min), int(spec.allowed_max))
    return st.floats(spec.allowed_min, spec.allowed_max, allow_nan=False, allow_infinity=False)


def houses(version: str) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries({spec.name: _value(spec) for spec in FEATURES[version]})


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_accepted_house_has_a_plausible_price(version: str) -> None:
    @settings(max_examples=400, deadline=None, derandomize=True)
    @given(st.lists(houses(version), min_size=1, max_size=50))
    def check(instances: list[dict[str, object]]) -> None:
        names = [spec.name for spec in FEATURES[version]]
        rows = [[float(house[name]) for name in names] for house in instances]  # type: ignore[arg-type]
        prices = np.asarray(REGISTRY[version].predict(rows))
        assert np.isfinite(prices).all()
        assert ((prices > LOW) & (prices < HIGH)).all(), prices

    check()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path_factory.mktemp("box")))) as client:
        admin = {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}
        client.headers["X-API-Key"] = create_key(client, admin, ["predict"], "1000000/minute")[
            "key"
        ]
        yield client


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_through_the_api_accepted_houses_are_priced_and_the_rest_refused(
    api: TestClient, version: str
) -> None:
    specs = {spec.name: spec for spec in FEATURES[version] if spec.type != "boolean"}

    @settings(
        max_examples=150,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(houses(version), st.sampled_from(sorted(specs)), st.floats(allow_nan=True))
    def check(house: dict[str, object], field: str, value: float) -> None:
        answer = api.post(f"/{version}/predict", json=house)
        assert answer.status_code == 200, answer.text
        assert LOW < answer.json()["predicted_price"] < HIGH
        spec = specs[field]
        assert spec.allowed_min is not None
        assert spec.allowed_max is not None
        inside = spec.allowed_min <= value <= spec.allowed_max
        integral = spec.type == "number" or float(value).is_integer()
        if not (inside and integral):
            body = {**house, field: value}
            text = api.post(
                f"/{version}/predict",
                content=_json_allowing_non_finite(body),
                headers={"content-type": "application/json"},
            )
            assert text.status_code == 422, (body, text.text)

    check()


def _json_allowing_non_finite(body: dict[str, object]) -> str:
    return json.dumps(body, allow_nan=True)
