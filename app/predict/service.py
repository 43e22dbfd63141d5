"""Turning validated features into prices with the loaded models."""

from __future__ import annotations

from collections.abc import Sequence

from app.metrics import PREDICTIONS
from app.ml.registry import LoadedModel, ModelRegistry
from app.predict.schemas import (
    BatchPrediction,
    FeatureInfo,
    HousingFeatures,
    ModelInfo,
    Prediction,
)


def _row(features: HousingFeatures, names: Sequence[str]) -> list[float]:
    values = features.__dict__
    return [float(values[name]) for name in names]


def predict_one(model: LoadedModel, features: HousingFeatures) -> Prediction:
    (price,) = model.predict([_row(features, model.manifest.feature_names)])
    PREDICTIONS.labels(model.version).inc()
    return Prediction(predicted_price=round(price, 2), model_version=model.version)


def predict_batch(model: LoadedModel, instances: Sequence[HousingFeatures]) -> BatchPrediction:
    names = model.manifest.feature_names
    prices = model.predict([_row(features, names) for features in instances])
    PREDICTIONS.labels(model.version).inc(len(prices))
    return BatchPrediction(
        predictions=[round(price, 2) for price in prices], model_version=model.version
    )


def describe(registry: ModelRegistry, version: str) -> ModelInfo:
    manifest = registry[version].manifest
    return ModelInfo(
        name=manifest.name,
        version=manifest.version,
        role=manifest.role,  # type: ignore[arg-type]
        algorithm=manifest.algorithm,
        target=manifest.target,
        features=[FeatureInfo.model_validate(f.model_dump()) for f in manifest.features],
        metrics=manifest.metrics,
        artifact_sha256=manifest.sha256,
        trained_at=manifest.trained_at,
        libraries=manifest.libraries,
    )
