"""Turning validated features into prices with the loaded models."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel

from app.metrics import PREDICTIONS
from app.ml.registry import LoadedModel, ModelRegistry
from app.predict.schemas import BatchPrediction, FeatureInfo, ModelInfo, Prediction


def _rows(instances: Sequence[BaseModel], names: Sequence[str]) -> list[list[float]]:
    return [[float(getattr(features, name)) for name in names] for features in instances]


def predict_one(model: LoadedModel, features: BaseModel) -> Prediction:
    rows = _rows([features], model.manifest.feature_names)
    (price,) = model.predict(rows)
    (outside,) = model.out_of_training_range(rows)
    PREDICTIONS.labels(model.version).inc()
    return Prediction(
        predicted_price=round(price, 2),
        model_version=model.version,
        out_of_training_range=outside,
    )


def predict_batch(model: LoadedModel, instances: Sequence[BaseModel]) -> BatchPrediction:
    rows = _rows(instances, model.manifest.feature_names)
    prices = model.predict(rows)
    PREDICTIONS.labels(model.version).inc(len(prices))
    return BatchPrediction(
        predictions=[round(price, 2) for price in prices],
        model_version=model.version,
        out_of_training_range=model.out_of_training_range(rows),
    )


def describe(registry: ModelRegistry, version: str, *, with_libraries: bool) -> ModelInfo:
    """The version's metadata; library versions only for admins (they help pick a CVE)."""
    manifest = registry[version].manifest
    return ModelInfo(
        name=manifest.name,
        version=manifest.version,
        role=manifest.role,  # type: ignore[arg-type]
        algorithm=manifest.algorithm,
        target=manifest.target,
        features=[FeatureInfo.model_validate(f.model_dump()) for f in manifest.features],
        metrics=manifest.metrics,
        baseline=manifest.baseline,
        artifact_sha256=manifest.sha256,
        trained_at=manifest.trained_at,
        libraries=manifest.libraries if with_libraries else None,
    )
