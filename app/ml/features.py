"""What each model version reads: names, types and the bounds an input may have.

The single source of truth for features: the wire schemas (``app.predict``)
are built from these specs, never the other way round, so the ML code needs
no HTTP types. Bounds are what a house in Windsor, Ontario, sold in 1987 can
plausibly be, with margin around the 546 sales the models learn from
(lot 1,650-16,200 sq ft, 1-6 bedrooms, 1-4 bathrooms, 1-4 stories, 0-3
garage places): wide enough for a real house the sample missed, narrow
enough that the models never have to extrapolate into absurd prices (the
old bounds, lot 1,000,000 sq ft and 20 bathrooms, let v1 predict 9.6e37 CAD).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

FeatureType = Literal["number", "integer", "boolean"]


@dataclass(frozen=True, slots=True)
class FeatureSpec:
    name: str
    type: FeatureType
    description: str
    allowed_min: float | None = None
    allowed_max: float | None = None


V1_FEATURES = (
    FeatureSpec("lotsize", "number", "Lot size, square feet", 1_000, 30_000),
    FeatureSpec("bedrooms", "integer", "Number of bedrooms", 1, 8),
    FeatureSpec("bathrms", "integer", "Number of full bathrooms", 1, 5),
    FeatureSpec("stories", "integer", "Stories, basement excluded", 1, 4),
    FeatureSpec("garagepl", "integer", "Garage places", 0, 4),
)
AMENITIES = (
    FeatureSpec("driveway", "boolean", "Has a driveway"),
    FeatureSpec("recroom", "boolean", "Has a recreation room"),
    FeatureSpec("fullbase", "boolean", "Has a full finished basement"),
    FeatureSpec("gashw", "boolean", "Gas hot-water heating"),
    FeatureSpec("airco", "boolean", "Central air conditioning"),
    FeatureSpec("prefarea", "boolean", "In the city's preferred neighbourhood"),
)

FEATURES: dict[str, tuple[FeatureSpec, ...]] = {
    "v1": V1_FEATURES,
    "v2": V1_FEATURES + AMENITIES,
}
ROLES = {"v1": "champion", "v2": "challenger"}


def feature_specs(version: str) -> tuple[FeatureSpec, ...]:
    return FEATURES[version]


def feature_names(version: str) -> list[str]:
    return [spec.name for spec in FEATURES[version]]
