"""Reproducible training of every model version from data/housing.csv.

Each version is fitted on a fixed 80 % split (seed below); its manifest records
5-fold cross-validated metrics on that split and held-out metrics on the other
20 %, on the price and on the log-price scale. Both versions model log(price):
house prices are right-skewed and their errors roughly multiplicative.
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
from sklearn.base import RegressorMixin, clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_absolute_error, r2_score
from sklearn.model_selection import KFold, cross_val_predict, train_test_split

from app.ml.dataset import Dataset, load_dataset
from app.ml.features import ROLES, feature_specs
from app.ml.features import SCHEMAS as VERSION_SCHEMAS
from app.ml.manifest import ARTIFACT_NAME, FeatureEntry, Manifest, sha256_of, write_manifest

SEED = 20_260_101
HOLDOUT_FRACTION = 0.2
CV_FOLDS = 5


@dataclass(frozen=True)
class Recipe:
    algorithm: str
    estimator: RegressorMixin


def _log_price(regressor: RegressorMixin) -> TransformedTargetRegressor:
    return TransformedTargetRegressor(regressor=regressor, func=np.log, inverse_func=np.exp)


RECIPES: dict[str, Recipe] = {
    "v1": Recipe("linear regression on log(price)", _log_price(LinearRegression())),
    "v2": Recipe(
        "histogram gradient boosting on log(price)",
        _log_price(
            HistGradientBoostingRegressor(
                max_iter=100,
                learning_rate=0.1,
                max_leaf_nodes=8,
                min_samples_leaf=15,
                l2_regularization=1.0,
                early_stopping=False,
                random_state=SEED,
            )
        ),
    ),
}


def metrics(actual: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    return {
        "r2_price": float(r2_score(actual, predicted)),
        "mae_price": float(mean_absolute_error(actual, predicted)),
        "r2_log_price": float(r2_score(np.log(actual), np.log(predicted))),
        "mae_log_price": float(mean_absolute_error(np.log(actual), np.log(predicted))),
    }


def train_version(version: str, data: Dataset, out_dir: Path) -> Manifest:
    recipe = RECIPES[version]
    specs = feature_specs(VERSION_SCHEMAS[version])
    names = [spec.name for spec in specs]
    x = data.matrix(names)
    x_train, x_test, y_train, y_test = train_test_split(
        x, data.price, test_size=HOLDOUT_FRACTION, random_state=SEED
    )
    folds = KFold(n_splits=CV_FOLDS, shuffle=True, random_state=SEED)
    cv_predicted = cross_val_predict(clone(recipe.estimator), x_train, y_train, cv=folds)
    model = clone(recipe.estimator).fit(x_train, y_train)

    directory = out_dir / version
    directory.mkdir(parents=True, exist_ok=True)
    _atomic_dump(model, directory / ARTIFACT_NAME)
    manifest = Manifest(
        name=f"housing-price-{version}",
        version=version,
        role=ROLES[version],
        algorithm=recipe.algorithm,
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
            for spec, column in zip(specs, x_train.T, strict=True)
        ],
        metrics={
            f"cv{CV_FOLDS}": metrics(y_train, cv_predicted),
            "holdout": metrics(y_test, model.predict(x_test)),
        },
        artifact=ARTIFACT_NAME,
        sha256=sha256_of(directory / ARTIFACT_NAME),
        seed=SEED,
        data={
            "file": "data/housing.csv",
            "sha256": data.sha256,
            "rows": data.rows,
            "train_rows": len(y_train),
            "holdout_rows": len(y_test),
        },
        libraries={
            "python": platform.python_version(),
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "joblib": joblib.__version__,
        },
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    write_manifest(directory, manifest)
    return manifest


def train_all(data_path: Path, out_dir: Path) -> list[Manifest]:
    data = load_dataset(data_path)
    return [train_version(version, data, out_dir) for version in RECIPES]


def _atomic_dump(model: object, path: Path) -> None:
    """Write to a temporary file and rename, so a crash never leaves half an artifact."""
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        joblib.dump(model, tmp)
    Path(tmp.name).replace(path)
