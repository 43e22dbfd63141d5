"""Reproducible training of every model version from data/housing.csv.

Each version is fitted on a fixed 80 % split (``--seed``); its manifest
records 5-fold cross-validated metrics on that split and held-out metrics on
the other 20 %, on the price and on the log-price scale, next to the same
figures for the baseline (the paper's OLS) fitted on the same split and
folds. A challenger that loses to the baseline by more than the tolerance is
not published: training stops before anything is written, so the artifacts
already in place keep serving.
"""

from __future__ import annotations

import platform
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import sklearn
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import KFold, cross_val_predict, train_test_split

from app.ml.dataset import Dataset, load_dataset
from app.ml.distribution import training_distribution
from app.ml.features import ROLES, feature_specs
from app.ml.manifest import ARTIFACT_NAME, FeatureEntry, Manifest, sha256_of, write_manifest
from app.ml.recipes import BASELINE, BASELINE_VERSION, R2_TOLERANCE, RECIPES, Recipe

DEFAULT_SEED = 20_260_101
HOLDOUT_FRACTION = 0.2
CV_FOLDS = 5
CV = f"cv{CV_FOLDS}"


class NotPublishable(RuntimeError):
    """The challenger loses to the baseline beyond the tolerance; nothing was written."""


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray
    x_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class Fitted:
    version: str
    model: TransformedTargetRegressor
    manifest: Manifest
    holdout: tuple[np.ndarray, np.ndarray]
    """Actual and predicted prices on the held-out split, for the card's plot."""


def metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "r2_price": float(r2_score(actual, predicted)),
        "mae_price": float(mean_absolute_error(actual, predicted)),
        "r2_log_price": float(r2_score(np.log(actual), np.log(predicted))),
        "mae_log_price": float(mean_absolute_error(np.log(actual), np.log(predicted))),
    }


def _split(data: Dataset, version: str, seed: int) -> Split:
    names = [spec.name for spec in feature_specs(version)]
    x_train, x_test, y_train, y_test = train_test_split(
        data.matrix(names), data.price, test_size=HOLDOUT_FRACTION, random_state=seed
    )
    return Split(x_train, x_test, y_train, y_test)


def _score(
    recipe: Recipe, split: Split, seed: int
) -> tuple[TransformedTargetRegressor, dict[str, dict[str, float]]]:
    folds = KFold(n_splits=CV_FOLDS, shuffle=True, random_state=seed)
    cv_predicted = cross_val_predict(recipe.estimator(), split.x_train, split.y_train, cv=folds)
    model = clone(recipe.estimator()).fit(split.x_train, split.y_train)
    return model, {
        CV: metrics(split.y_train, cv_predicted),
        "holdout": metrics(split.y_test, model.predict(split.x_test)),
    }


def fit_version(version: str, data: Dataset, seed: int) -> Fitted:
    split = _split(data, version, seed)
    model, scores = _score(RECIPES[version], split, seed)
    # The baseline sees the challenger's features, on this version's split and folds.
    _, baseline = _score(BASELINE, _split(data, BASELINE_VERSION, seed), seed)
    specs = feature_specs(version)
    manifest = Manifest(
        name=f"housing-price-{version}",
        version=version,
        role=ROLES[version],
        algorithm=RECIPES[version].algorithm,
        target="price (CAD, 1987); fitted on log(price)",
        features=[
            FeatureEntry(
                name=spec.name,
                type=spec.type,
                allowed_min=spec.allowed_min,
                allowed_max=spec.allowed_max,
                train_min=float(column.min()),
                train_max=float(column.max()),
            )
            for spec, column in zip(specs, split.x_train.T, strict=True)
        ],
        metrics=scores,
        baseline=baseline,
        baseline_algorithm=BASELINE.algorithm,
        distribution=training_distribution(specs, split.x_train),
        artifact=ARTIFACT_NAME,
        sha256="",
        seed=seed,
        data={
            "file": "data/housing.csv",
            "sha256": data.sha256,
            "rows": data.rows,
            "train_rows": len(split.y_train),
            "holdout_rows": len(split.y_test),
        },
        libraries={
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "joblib": joblib.__version__,
        },
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    return Fitted(version, model, manifest, (split.y_test, model.predict(split.x_test)))


def check_publishable(fitted: Fitted) -> None:
    """Refuse a challenger whose CV R²(log price) trails the baseline's beyond the tolerance."""
    if fitted.manifest.role != "challenger":
        return
    ours = fitted.manifest.metrics[CV]["r2_log_price"]
    theirs = fitted.manifest.baseline[CV]["r2_log_price"]
    if ours < theirs - R2_TOLERANCE:
        raise NotPublishable(
            f"{fitted.version}: CV R²(log price) {ours:.4f} loses to the baseline's {theirs:.4f} "
            f"by more than {R2_TOLERANCE}; not published, the current artifacts stay"
        )


def publish(fitted: Fitted, out_dir: Path) -> Manifest:
    directory = out_dir / fitted.version
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_dump(fitted.model, directory / ARTIFACT_NAME)
    manifest = fitted.manifest.model_copy(update={"sha256": sha256_of(directory / ARTIFACT_NAME)})
    write_manifest(directory, manifest)
    return manifest


def train_all(
    data_path: Path, out_dir: Path, seed: int | None = None
) -> tuple[list[Manifest], list[Fitted]]:
    """Fit and check every version first; write only when all of them may be published."""
    seed = DEFAULT_SEED if seed is None else seed
    data = load_dataset(data_path)
    fitted = [fit_version(version, data, seed) for version in RECIPES]
    for candidate in fitted:
        check_publishable(candidate)
    return [publish(candidate, out_dir) for candidate in fitted], fitted


def _atomic_dump(model: object, path: Path) -> None:
    """Write to a temporary file and rename, so a crash never leaves half an artifact."""
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        joblib.dump(model, tmp)
    Path(tmp.name).replace(path)
