"""Loading refuses tampered or mismatched artifacts; the fast path equals sklearn."""

from __future__ import annotations

import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.ml.manifest import MANIFEST_NAME, IntegrityError, Manifest
from app.ml.registry import LogLinearPredictor, ModelRegistry
from app.settings import Settings
from tests.app.conftest import MODELS_DIR


@pytest.fixture
def models_copy(tmp_path: Path) -> Path:
    target = tmp_path / "models"
    shutil.copytree(MODELS_DIR, target)
    return target


def test_loads_every_version() -> None:
    registry = ModelRegistry.load(MODELS_DIR)
    assert registry.versions == ["v1", "v2"]
    assert isinstance(registry["v1"].predictor, LogLinearPredictor)


def test_linear_fast_path_equals_sklearn() -> None:
    registry = ModelRegistry.load(MODELS_DIR)
    estimator = joblib.load(MODELS_DIR / "v1" / "model.joblib")
    rows = np.array([[5850, 3, 1, 2, 1], [1650, 1, 1, 1, 0], [16200, 6, 4, 4, 3]], dtype=float)
    np.testing.assert_allclose(registry["v1"].predict(rows.tolist()), estimator.predict(rows))


def test_tampered_artifact_is_never_unpickled(models_copy: Path) -> None:
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
        pass


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
