"""The examples /docs pre-fills (and the benchmark sends) are valid bodies."""

from __future__ import annotations

import pytest

from app.predict.schemas import HousingFeatures, HousingFeaturesV2, example_body


@pytest.mark.parametrize("schema", [HousingFeatures, HousingFeaturesV2])
def test_the_documented_example_validates(schema: type[HousingFeatures]) -> None:
    body = example_body(schema)
    assert set(body) == set(schema.model_fields)
    schema.model_validate(body)
