"""Over the whole accepted box, every answer is a finite, plausible price; outside it, a 422.

The bounds come from the feature specs the wire schemas are built from
(``app.ml.features``), so tightening or widening them keeps these tests
honest. Plausible: a 1987 Windsor house, 10,000 to 600,000 CAD (the data's
sales span 25,000 to 190,000; the largest accepted house is far outside it,
hence the margin). Refused: a value out of bounds, NaN or an infinity, a
non-integral count, a value of the wrong type, an unknown field or a missing
one — each a list-shaped 422 naming the field, on the single and the batch
endpoints of both versions.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
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
VERSIONS = sorted(FEATURES)
House = dict[str, Any]


def _bounds(spec: FeatureSpec) -> tuple[float, float]:
    assert spec.allowed_min is not None
    assert spec.allowed_max is not None
    return spec.allowed_min, spec.allowed_max


def _value(spec: FeatureSpec) -> st.SearchStrategy[object]:
    if spec.type == "boolean":
        return st.booleans()
    low, high = _bounds(spec)
    if spec.type == "integer":
        # Integral floats (3.0) are accepted as counts too.
        return st.integers(int(low), int(high)) | st.integers(int(low), int(high)).map(float)
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def houses(version: str) -> st.SearchStrategy[House]:
    return st.fixed_dictionaries({spec.name: _value(spec) for spec in FEATURES[version]})


def _outside(spec: FeatureSpec) -> st.SearchStrategy[object]:
    """Values of the right JSON type that the spec refuses."""
    not_finite = st.sampled_from([math.nan, math.inf, -math.inf])
    if spec.type == "boolean":
        return st.nothing()
    low, high = _bounds(spec)
    out_of_bounds = st.floats(max_value=low, exclude_max=True) | st.floats(
        min_value=high, exclude_min=True
    )
    if spec.type == "number":
        return out_of_bounds | not_finite
    fractional = st.floats(low, high).filter(lambda value: not value.is_integer())
    whole_out_of_bounds = st.integers(max_value=int(low) - 1) | st.integers(min_value=int(high) + 1)
    return out_of_bounds | not_finite | fractional | whole_out_of_bounds


def _wrong_type(spec: FeatureSpec) -> st.SearchStrategy[object]:
    anything_else = st.none() | st.text(max_size=5) | st.lists(st.integers(), max_size=2)
    anything_else |= st.dictionaries(st.text(max_size=3), st.integers(), max_size=1)
    if spec.type == "boolean":
        return anything_else | st.integers() | st.floats()
    return anything_else | st.booleans()


FLAWS = ("outside", "wrong type", "unknown field", "missing field")


@st.composite
def refused_houses(
    draw: st.DrawFn, version: str, flaws: tuple[str, ...] = FLAWS
) -> tuple[House, str]:
    """A house with exactly one thing wrong, and the field a 422 must name."""
    house = draw(houses(version))
    specs = FEATURES[version]
    names = {spec.name for spec in specs}
    flaw = draw(st.sampled_from(flaws))
    if flaw == "unknown field":
        name = draw(st.text(min_size=1, max_size=12).filter(lambda name: name not in names))
        return {**house, name: draw(st.integers() | st.text(max_size=3))}, name
    if flaw == "missing field":
        name = draw(st.sampled_from(sorted(names)))
        return {key: value for key, value in house.items() if key != name}, name
    bounded = [spec for spec in specs if spec.type != "boolean"]
    spec = draw(st.sampled_from(bounded if flaw == "outside" else specs))
    value = draw(_outside(spec) if flaw == "outside" else _wrong_type(spec))
    return {**house, spec.name: value}, spec.name


def _rows(version: str, instances: list[House]) -> list[list[float]]:
    return [[float(house[spec.name]) for spec in FEATURES[version]] for house in instances]


@pytest.mark.parametrize("version", VERSIONS)
@given(data=st.data())
def test_every_accepted_house_has_a_plausible_price(version: str, data: st.DataObject) -> None:
    instances = data.draw(st.lists(houses(version), min_size=1, max_size=50))
    prices = np.asarray(REGISTRY[version].predict(_rows(version, instances)))
    assert np.isfinite(prices).all()
    assert ((prices > LOW) & (prices < HIGH)).all(), prices


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path_factory.mktemp("box")))) as client:
        admin = {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}
        key = create_key(client, admin, ["predict"], "10000000/minute")["key"]
        client.headers["X-API-Key"] = key
        yield client


def _post(api: TestClient, path: str, body: object) -> Any:
    """Sent as JSON that may hold NaN and Infinity, as a careless client's encoder writes them."""
    content = json.dumps(body, allow_nan=True)
    return api.post(path, content=content, headers={"content-type": "application/json"})


def _names_the_field(answer: Any, field: str, *prefix: object) -> bool:
    detail = answer.json()["detail"]
    assert isinstance(detail, list), detail
    return any(error["loc"][: len(prefix) + 2] == ["body", *prefix, field] for error in detail)


@pytest.mark.parametrize("version", VERSIONS)
@given(data=st.data())
def test_through_the_api_accepted_houses_are_priced(
    api: TestClient, version: str, data: st.DataObject
) -> None:
    house = data.draw(houses(version), label="house")
    answer = _post(api, f"/{version}/predict", house)
    assert answer.status_code == 200, answer.text
    assert LOW < answer.json()["predicted_price"] < HIGH
    expected = REGISTRY[version].predict(_rows(version, [house]))[0]
    assert answer.json()["predicted_price"] == pytest.approx(expected)


@pytest.mark.parametrize("version", VERSIONS)
@given(data=st.data())
def test_through_the_api_an_accepted_batch_is_priced_in_order(
    api: TestClient, version: str, data: st.DataObject
) -> None:
    instances = data.draw(st.lists(houses(version), min_size=1, max_size=30), label="batch")
    answer = _post(api, f"/{version}/predict/batch", {"instances": instances})
    assert answer.status_code == 200, answer.text
    predictions = answer.json()["predictions"]
    assert all(math.isfinite(price) and LOW < price < HIGH for price in predictions)
    expected = REGISTRY[version].predict(_rows(version, instances))
    assert predictions == pytest.approx(list(expected))


@pytest.mark.parametrize("flaw", FLAWS)
@pytest.mark.parametrize("version", VERSIONS)
@given(data=st.data())
def test_through_the_api_any_other_house_is_a_422_naming_the_field(
    api: TestClient, version: str, flaw: str, data: st.DataObject
) -> None:
    house, field = data.draw(refused_houses(version, (flaw,)), label="refused house")
    answer = _post(api, f"/{version}/predict", house)
    assert answer.status_code == 422, (house, answer.text)
    assert _names_the_field(answer, field), answer.text


@pytest.mark.parametrize("version", VERSIONS)
@given(data=st.data())
def test_through_the_api_one_bad_house_refuses_its_whole_batch(
    api: TestClient, version: str, data: st.DataObject
) -> None:
    instances = data.draw(st.lists(houses(version), min_size=1, max_size=10), label="batch")
    bad, field = data.draw(refused_houses(version), label="refused house")
    position = data.draw(st.integers(0, len(instances)), label="position")
    instances.insert(position, bad)
    answer = _post(api, f"/{version}/predict/batch", {"instances": instances})
    assert answer.status_code == 422, (bad, answer.text)
    assert _names_the_field(answer, field, "instances", position), answer.text
