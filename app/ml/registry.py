"""Loading every model version once, and predicting with it.

sklearn's per-call overhead (input validation, ~100-200 µs) dwarfs a linear
model's arithmetic, so a linear model on log(price) is served from its
coefficients directly: exp(b + w·x). Other estimators go through sklearn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import joblib
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LinearRegression

from app.ml.features import SCHEMAS, feature_names
from app.ml.manifest import Manifest, read_verified_manifest


class Predictor(Protocol):
    def predict(self, rows: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class LogLinearPredictor:
    """exp(intercept + coef · x): what a TransformedTargetRegressor(LinearRegression, log) does."""

    intercept: float
    coef: np.ndarray

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return np.exp(rows @ self.coef + self.intercept)


def as_predictor(estimator: object) -> Predictor:
    if (
        isinstance(estimator, TransformedTargetRegressor)
        and isinstance(estimator.regressor_, LinearRegression)
        and estimator.func is np.log
        and estimator.inverse_func is np.exp
    ):
        linear = estimator.regressor_
        return LogLinearPredictor(float(linear.intercept_), np.asarray(linear.coef_, dtype=float))
    assert hasattr(estimator, "predict")
    return estimator  # type: ignore[return-value]


@dataclass(frozen=True)
class LoadedModel:
    manifest: Manifest
    predictor: Predictor

    @property
    def version(self) -> str:
        return self.manifest.version

    def predict(self, rows: Sequence[Sequence[float]]) -> list[float]:
        matrix = np.asarray(rows, dtype=float)
        return [float(value) for value in self.predictor.predict(matrix)]


class ModelRegistry:
    def __init__(self, models: dict[str, LoadedModel]) -> None:
        self._models = models

    def __getitem__(self, version: str) -> LoadedModel:
        return self._models[version]

    @property
    def versions(self) -> list[str]:
        return list(self._models)

    @classmethod
    def load(cls, models_dir: Path) -> ModelRegistry:
        """Load every version the API serves; raise if any is missing, tampered or mismatched."""
        models = {}
        for version in SCHEMAS:
            directory = models_dir / version
            manifest = read_verified_manifest(directory)
            if manifest.feature_names != feature_names(version):
                raise ValueError(
                    f"{directory}: manifest features {manifest.feature_names} do not match "
                    f"the API schema {feature_names(version)}; retrain with `make model`"
                )
            estimator = joblib.load(directory / manifest.artifact)
            models[version] = LoadedModel(manifest, as_predictor(estimator))
        return cls(models)
