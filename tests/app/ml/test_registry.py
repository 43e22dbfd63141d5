"""Loading refuses tampered or mismatched artifacts; the fast path equals sklearn."""

from __future__ import annotations

import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ml.dataset import load_dataset
from app.ml.features import FEATURES, feature_names
from app.ml.manifest import MANIFEST_NAME, IntegrityError, Manifest
from app.ml.registry import HedonicLinearPredictor, ModelRegistry
from app.settings import Settings
from tests.app.conftest import MODELS_DIR, REPO


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    target = tmp_path / "models"
    shutil.copytree(MODELS_DIR, target)
    return target


def test_loads_every_version_served_from_its_coefficients() -> None:
    registry = ModelRegistry.load(MODELS_DIR)
    assert registry.versions == ["v1", "v2"]
    for version in registry.versions:
        assert isinstance(registry[version].predictor, HedonicLinearPredictor)


def _accepted_rows(version: str, count: int) -> np.ndarray:
    """Random inputs across the whole accepted box, corners included."""
    generator = np.random.default_rng(7)
    columns = []
    for spec in FEATURES[version]:
        low, high = (spec.allowed_min, spec.allowed_max) if spec.type != "boolean" else (0, 1)
        column = generator.uniform(low, high, count)
        columns.append(column if spec.type == "number" else np.round(column))
    rows = np.column_stack(columns)
    rows[0] = [c.allowed_min if c.type != "boolean" else 0 for c in FEATURES[version]]
    rows[1] = [c.allowed_max if c.type != "boolean" else 1 for c in FEATURES[version]]
    return rows


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_served_linear_form_equals_sklearn(version: str) -> None:
    """To 1e-9 relative, on every training row and 2,000 accepted inputs."""
    registry = ModelRegistry.load(MODELS_DIR)
    estimator = joblib.load(MODELS_DIR / version / "model.joblib")
    data = load_dataset(REPO / "data" / "housing.csv")
    rows = np.vstack([data.matrix(feature_names(version)), _accepted_rows(version, 2000)])
    np.testing.assert_allclose(registry[version].predict(rows), estimator.predict(rows), rtol=1e-9)


def test_out_of_training_range_names_exactly_the_extrapolated_features() -> None:
    model = ModelRegistry.load(MODELS_DIR)["v1"]
    ranges = {f.name: (f.train_min, f.train_max) for f in model.manifest.features}
    inside = [ranges[name][0] for name in model.manifest.feature_names]
    above_lot = [ranges["lotsize"][1] + 1, *inside[1:]]
    below_lot_above_garage = [ranges["lotsize"][0] - 1, *inside[1:4], ranges["garagepl"][1] + 1]
    assert model.out_of_training_range([inside, above_lot, below_lot_above_garage]) == [
        [],
        ["lotsize"],
        ["lotsize", "garagepl"],
    ]


class WritesAFileWhenUnpickled:
    """A payload as an attacker would plant it: unpickling it calls ``open(path, "w")``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return open, (str(self.path), "w")


def test_tampered_artifact_is_never_unpickled(models_copy: Path, tmp_path: Path) -> None:
    """Refused on its SHA-256 before joblib opens it: the payload's file never appears."""
    marker = tmp_path / "unpickled"
    artifact = models_copy / "v2" / "model.joblib"
    joblib.dump(WritesAFileWhenUnpickled(marker), artifact)
    with pytest.raises(IntegrityError, match="does not match"):
        ModelRegistry.load(models_copy)
    assert not marker.exists()
    # The payload is live: the same file, unpickled, does write it.
    joblib.load(artifact).close()
    assert marker.exists()


def test_an_artifact_with_a_byte_appended_is_refused(models_copy: Path) -> None:
    artifact = models_copy / "v2" / "model.joblib"
    artifact.write_bytes(artifact.read_bytes() + b"\x00")
    with pytest.raises(IntegrityError, match="does not match"):
        ModelRegistry.load(models_copy)


def test_app_refuses_to_start_with_a_tampered_artifact(models_copy: Path, tmp_path: Path) -> None:
    artifact = models_copy / "v1" / "model.joblib"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    settings = Settings(_env_file=None, env="test", state_dir=tmp_path, models_dir=models_copy)
    with pytest.raises(IntegrityError), TestClient(create_app(settings)):
        pytest.fail("the app started on a tampered artifact")


def test_app_start_never_unpickles_a_planted_payload(models_copy: Path, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    joblib.dump(WritesAFileWhenUnpickled(marker), models_copy / "v1" / "model.joblib")
    settings = Settings(
        _env_file=None, env="test", state_dir=tmp_path / "state", models_dir=models_copy
    )
    with pytest.raises(IntegrityError), TestClient(create_app(settings)):
        pytest.fail("the app started on a planted artifact")
    assert not marker.exists()


def test_manifest_features_must_match_the_schema(models_copy: Path) -> None:
    path = models_copy / "v1" / MANIFEST_NAME
    manifest = Manifest.model_validate_json(path.read_text())
    manifest.features.reverse()
    path.write_text(manifest.model_dump_json())
    with pytest.raises(ValueError, match="do not match the API schema"):
        ModelRegistry.load(models_copy)


def test_missing_artifact_refuses(models_copy: Path) -> None:
    (models_copy / "v2" / "model.joblib").unlink()
    with pytest.raises(FileNotFoundError):
        ModelRegistry.load(models_copy)
