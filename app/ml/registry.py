"""Loading every model version once, and predicting with it.

scikit-learn's per-call overhead (input validation) dwarfs the arithmetic of
a model that is linear in a cheap basis, so such a model (both versions
today) is served from its coefficients, ``exp(b + w · basis(x))``, with
predictions equal to scikit-learn's to 1e-9 (tested). Measured for v2 on this
2-core box (``timeit`` of 1,000 calls, other work running): one row, the
pipeline's ``predict`` 410-750 µs, the same through ``asyncio.to_thread``
30 % more (the hop costs more than it frees), the linear form 11-15 µs;
1,000 rows, 900 µs against 110 µs. At microseconds per call nothing needs a
thread pool, micro-batching (which would add its 1-2 ms wait) or ONNX (whose
session call alone costs more than the whole linear form); a future model
that is not linear in a basis goes through scikit-learn and is where those
become worth measuring.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import joblib
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline

from app.ml.basis import HedonicBasis, hedonic_basis
from app.ml.features import FEATURES, feature_names
from app.ml.manifest import Manifest, read_verified_manifest


class Predictor(Protocol):
    def predict(self, rows: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class HedonicLinearPredictor:
    """``exp(intercept + coef · hedonic_basis(x))``: the fitted pipeline's arithmetic only."""

    knots: np.ndarray
    intercept: float
    coef: np.ndarray

    def predict(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(np.exp(hedonic_basis(rows, self.knots) @ self.coef + self.intercept))


def as_predictor(estimator: object) -> Predictor:
    if (
        isinstance(estimator, TransformedTargetRegressor)
        and estimator.func is np.log
        and estimator.inverse_func is np.exp
        and isinstance(estimator.regressor_, Pipeline)
        and [type(step) for _, step in estimator.regressor_.steps]
        == [HedonicBasis, LinearRegression]
    ):
        basis, linear = (step for _, step in estimator.regressor_.steps)
        return HedonicLinearPredictor(
            np.asarray(basis.knots_, dtype=float),
            float(linear.intercept_),
            np.asarray(linear.coef_, dtype=float),
        )
    assert hasattr(estimator, "predict")
    return estimator


@dataclass(frozen=True)
class LoadedModel:
    manifest: Manifest
    predictor: Predictor
    _train_min: np.ndarray = field(init=False, repr=False)
    _train_max: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        features = self.manifest.features
        object.__setattr__(self, "_train_min", np.array([f.train_min for f in features]))
        object.__setattr__(self, "_train_max", np.array([f.train_max for f in features]))

    @property
    def version(self) -> str:
        return self.manifest.version

    def predict(self, rows: Sequence[Sequence[float]] | np.ndarray) -> list[float]:
        matrix = np.asarray(rows, dtype=float)
        return self.predictor.predict(matrix).tolist()  # type: ignore[no-any-return]

    def out_of_training_range(
        self, rows: Sequence[Sequence[float]] | np.ndarray
    ) -> list[list[str]]:
        """Per row, the features outside the training min/max: where the model extrapolates."""
        matrix = np.asarray(rows, dtype=float)
        outside = (matrix < self._train_min) | (matrix > self._train_max)
        if not outside.any():
            return [[] for _ in range(len(matrix))]
        names = self.manifest.feature_names
        return [[names[i] for i in np.flatnonzero(row)] for row in outside]


class ModelRegistry:
    def __init__(self, models: dict[str, LoadedModel]) -> None:
        self._models = models

    def __getitem__(self, version: str) -> LoadedModel:
        return self._models[version]

    def __contains__(self, version: object) -> bool:
        return version in self._models

    @property
    def versions(self) -> list[str]:
        return list(self._models)

    @classmethod
    def load(cls, models_dir: Path) -> ModelRegistry:
        """Load every version the API serves; raise if any is missing, tampered or mismatched."""
        return cls({version: load_version(models_dir, version) for version in FEATURES})


def load_version(models_dir: Path, version: str) -> LoadedModel:
    directory = models_dir / version
    manifest = read_verified_manifest(directory)
    if manifest.feature_names != feature_names(version):
        raise ValueError(
            f"{directory}: manifest features {manifest.feature_names} do not match "
            f"the API schema {feature_names(version)}; retrain with `make model`"
        )
    # Only after the SHA-256 matched: unpickling runs code.
    estimator = joblib.load(directory / manifest.artifact)
    return LoadedModel(manifest, as_predictor(estimator))
