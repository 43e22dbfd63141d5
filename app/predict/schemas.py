"""Wire types of the inference endpoints, built from the feature specs in ``app.ml.features``.

Every input model is strict: unknown fields, strings for numbers, booleans
for counts, 2.7 bedrooms, NaN and Infinity are refused with a 422 before
anything reaches a model. Counts accept integral numbers (``3`` and ``3.0``,
what pandas and most JSON encoders produce for a float column) and refuse
others. Bounds are in the specs, with the reason for each.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model

from app.ml.features import FeatureSpec, feature_specs

MAX_BATCH = 1000

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


def _integral(value: object) -> object:
    """``3.0`` → ``3``; ``2.7`` → refused; anything else is left to strict validation."""
    if isinstance(value, float) and not isinstance(value, bool):
        if not value.is_integer():
            raise ValueError("must be a whole number")
        return int(value)
    return value


def _field(spec: FeatureSpec) -> tuple[Any, Any]:
    low, high = spec.allowed_min, spec.allowed_max
    if spec.type == "number":
        return float, Field(description=spec.description, ge=low, le=high)
    if spec.type == "integer":
        integer = Annotated[int, BeforeValidator(_integral)]
        return integer, Field(description=spec.description, ge=low, le=high)
    return bool, Field(description=spec.description)


def _features_model(name: str, version: str, doc: str, example: dict[str, Any]) -> type[BaseModel]:
    fields = {spec.name: _field(spec) for spec in feature_specs(version)}
    config = ConfigDict(**_STRICT, json_schema_extra={"examples": [example]})
    model: type[BaseModel] = create_model(name, __config__=config, __doc__=doc, **fields)  # type: ignore[call-overload]
    return model


V1_EXAMPLE = {"lotsize": 5850, "bedrooms": 3, "bathrms": 1, "stories": 2, "garagepl": 1}
V2_EXAMPLE = {
    **V1_EXAMPLE,
    "driveway": True,
    "recroom": False,
    "fullbase": True,
    "gashw": False,
    "airco": False,
    "prefarea": False,
}

HousingFeatures = _features_model(
    "HousingFeatures", "v1", "The champion's five features.", V1_EXAMPLE
)
HousingFeaturesV2 = _features_model(
    "HousingFeaturesV2", "v2", "The challenger's eleven features: v1's plus six amenities.",
    V2_EXAMPLE,
)  # fmt: skip


class BatchV1(BaseModel):
    model_config = _STRICT
    instances: list[HousingFeatures] = Field(min_length=1, max_length=MAX_BATCH)  # type: ignore[valid-type]


class BatchV2(BaseModel):
    model_config = _STRICT
    instances: list[HousingFeaturesV2] = Field(min_length=1, max_length=MAX_BATCH)  # type: ignore[valid-type]


OUT_OF_RANGE = (
    "Features outside the training data's min/max, where the model extrapolates; [] when none."
)


class Prediction(BaseModel):
    predicted_price: float = Field(description="Predicted sale price, 1987 Canadian dollars")
    model_version: str
    out_of_training_range: list[str] = Field(description=OUT_OF_RANGE)


class BatchPrediction(BaseModel):
    predictions: list[float]
    model_version: str
    out_of_training_range: list[list[str]] = Field(description="Per instance: " + OUT_OF_RANGE)


class FeatureInfo(BaseModel):
    name: str
    type: Literal["number", "integer", "boolean"]
    allowed_min: float | None = Field(None, description="Absent for booleans")
    allowed_max: float | None = Field(None, description="Absent for booleans")
    train_min: float
    train_max: float


class ModelInfo(BaseModel):
    name: str
    version: str
    role: Literal["champion", "challenger"]
    algorithm: str
    target: str
    features: list[FeatureInfo]
    metrics: dict[str, dict[str, float]]
    baseline: dict[str, dict[str, float]] = Field(
        description="The paper's OLS on the same split and folds"
    )
    artifact_sha256: str
    trained_at: str
    libraries: dict[str, str] | None = Field(
        None, description="Library versions the artifact was built with (admins only)"
    )


def example_body(schema: type[BaseModel]) -> dict[str, Any]:
    """The first example a schema documents (what /docs pre-fills)."""
    extra = schema.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    return dict(extra["examples"][0])  # type: ignore[index,arg-type]
