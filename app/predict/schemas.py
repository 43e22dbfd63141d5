"""Wire types of the inference endpoints.

Bounds are what a real detached house can have, wider than the 1987 Windsor
sample (the manifest records the training ranges separately). Every model is
strict: unknown fields, strings for numbers, 2.7 bedrooms, NaN and Infinity are
refused with a 422 before anything reaches a model.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_BATCH = 1000

_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

LotSize = Annotated[float, Field(ge=100, le=1_000_000, description="Lot size, square feet")]
Bedrooms = Annotated[int, Field(ge=0, le=20, description="Number of bedrooms")]
Bathrooms = Annotated[int, Field(ge=0, le=20, description="Number of full bathrooms")]
Stories = Annotated[int, Field(ge=1, le=10, description="Stories, basement excluded")]
GaragePlaces = Annotated[int, Field(ge=0, le=20, description="Garage places")]


class HousingFeatures(BaseModel):
    """The champion's five features."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [
                {"lotsize": 5850, "bedrooms": 3, "bathrms": 1, "stories": 2, "garagepl": 1}
            ]
        },
    )

    lotsize: LotSize
    bedrooms: Bedrooms
    bathrms: Bathrooms
    stories: Stories
    garagepl: GaragePlaces


class HousingFeaturesV2(HousingFeatures):
    """The challenger's eleven features: v1's plus six amenities."""

    model_config = ConfigDict(
        **_STRICT,
        json_schema_extra={
            "examples": [
                {
                    "lotsize": 5850,
                    "bedrooms": 3,
                    "bathrms": 1,
                    "stories": 2,
                    "garagepl": 1,
                    "driveway": True,
                    "recroom": False,
                    "fullbase": True,
                    "gashw": False,
                    "airco": False,
                    "prefarea": False,
                }
            ]
        },
    )

    driveway: bool = Field(description="Has a driveway")
    recroom: bool = Field(description="Has a recreation room")
    fullbase: bool = Field(description="Has a full finished basement")
    gashw: bool = Field(description="Gas hot-water heating")
    airco: bool = Field(description="Central air conditioning")
    prefarea: bool = Field(description="In the city's preferred neighbourhood")


class BatchV1(BaseModel):
    model_config = _STRICT
    instances: list[HousingFeatures] = Field(min_length=1, max_length=MAX_BATCH)


class BatchV2(BaseModel):
    model_config = _STRICT
    instances: list[HousingFeaturesV2] = Field(min_length=1, max_length=MAX_BATCH)


class Prediction(BaseModel):
    predicted_price: float = Field(description="Predicted sale price, 1987 Canadian dollars")
    model_version: str


class BatchPrediction(BaseModel):
    predictions: list[float]
    model_version: str


class FeatureInfo(BaseModel):
    name: str
    type: Literal["number", "integer", "boolean"]
    allowed_min: float | None
    allowed_max: float | None
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
    artifact_sha256: str
    trained_at: str
    libraries: dict[str, str]


def example_body(schema: type[BaseModel]) -> dict[str, Any]:
    """The first example a schema documents (what /docs pre-fills)."""
    extra = schema.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    return dict(extra["examples"][0])  # type: ignore[index,arg-type]
