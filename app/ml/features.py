"""Which features each model version reads, derived from the wire schemas."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from annotated_types import Ge, Le
from pydantic import BaseModel

from app.predict.schemas import HousingFeatures, HousingFeaturesV2

FeatureType = Literal["number", "integer", "boolean"]

SCHEMAS: dict[str, type[HousingFeatures]] = {"v1": HousingFeatures, "v2": HousingFeaturesV2}
ROLES = {"v1": "champion", "v2": "challenger"}
_TYPES: dict[type, FeatureType] = {float: "number", int: "integer", bool: "boolean"}


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    name: str
    type: FeatureType
    allowed_min: float | None
    allowed_max: float | None


def feature_specs(schema: type[BaseModel]) -> list[FeatureSpec]:
    specs = []
    for name, field in schema.model_fields.items():
        low = high = None
        for bound in field.metadata:
            if isinstance(bound, Ge):
                low = float(bound.ge)
            elif isinstance(bound, Le):
                high = float(bound.le)
        assert field.annotation is not None
        specs.append(FeatureSpec(name, _TYPES[field.annotation], low, high))
    return specs


def feature_names(version: str) -> list[str]:
    return list(SCHEMAS[version].model_fields)
