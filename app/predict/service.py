"""Turning validated features into prices with the loaded models."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from app.metrics import PREDICTIONS
from app.ml.registry import LoadedModel, ModelRegistry
from app.predict.schemas import BatchPrediction, FeatureInfo, ModelInfo, Prediction
from app.predlog.recorder import PredictionRecorder


def _rows(instances: Sequence[BaseModel], names: Sequence[str]) -> list[list[float]]:
    """One row per instance, columns in the model's feature order.

    The wire schemas are built from the same feature specs as the manifest
    (the registry refuses a manifest whose features differ), so a validated
    instance's fields are already in that order: its ``__dict__`` is the row.
    """
    rows = [list(features.__dict__.values()) for features in instances]
    if rows and len(rows[0]) != len(names):
        raise ValueError(f"expected features {list(names)}")
    return rows


def predict_one(
    model: LoadedModel, features: BaseModel, recorder: PredictionRecorder
) -> Prediction:
    rows = _rows([features], model.manifest.feature_names)
    (price,) = model.predict(rows)
    (outside,) = model.out_of_training_range(rows)
    PREDICTIONS.labels(model.version).inc()
    recorder.record(model, rows, [price])
    # Built from values this service computed, so not validated again (pydantic's
    # validation of 1,000 floats and lists cost a fifth of a batch's CPU).
    return Prediction.model_construct(
        predicted_price=round(price, 2),
        model_version=model.version,
        out_of_training_range=outside,
    )


def predict_batch(
    model: LoadedModel, instances: Sequence[BaseModel], recorder: PredictionRecorder
) -> BatchPrediction:
    rows = _rows(instances, model.manifest.feature_names)
    prices = model.predict(rows)
    PREDICTIONS.labels(model.version).inc(len(prices))
    recorder.record(model, rows, prices)
    return BatchPrediction.model_construct(
        predictions=np.round(prices, 2).tolist(),
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
