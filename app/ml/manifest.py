"""The manifest written beside every artifact, and the integrity check on load.

The SHA-256 is checked *before* unpickling: joblib files are pickles, and
unpickling runs code, so an artifact that does not match its manifest is
never opened.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from app.ml.distribution import FeatureDistribution

ARTIFACT_NAME = "model.joblib"
MANIFEST_NAME = "manifest.json"


class IntegrityError(RuntimeError):
    """An artifact does not match the SHA-256 its manifest records."""


class FeatureEntry(BaseModel):
    name: str
    type: str
    allowed_min: float | None
    allowed_max: float | None
    train_min: float
    train_max: float


class Manifest(BaseModel):
    name: str
    version: str
    role: str
    algorithm: str
    target: str
    features: list[FeatureEntry]
    metrics: dict[str, dict[str, float]]
    baseline: dict[str, dict[str, float]] = Field(default_factory=dict)
    """The paper's OLS, fitted and scored on the same split and folds as this model."""
    baseline_algorithm: str = ""
    distribution: dict[str, FeatureDistribution] = Field(default_factory=dict)
    """Each feature's training distribution, the reference for drift."""
    artifact: str
    sha256: str
    seed: int
    data: dict[str, Any]
    libraries: dict[str, str]
    trained_at: str

    @property
    def feature_names(self) -> list[str]:
        return [feature.name for feature in self.features]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(directory: Path, manifest: Manifest) -> None:
    text = json.dumps(manifest.model_dump(), indent=2, sort_keys=True) + "\n"
    (directory / MANIFEST_NAME).write_text(text)


def read_verified_manifest(directory: Path) -> Manifest:
    """Read ``manifest.json`` and prove the artifact beside it is the one it describes."""
    manifest = Manifest.model_validate_json((directory / MANIFEST_NAME).read_text())
    actual = sha256_of(directory / manifest.artifact)
    if actual != manifest.sha256:
        raise IntegrityError(
            f"{directory / manifest.artifact}: SHA-256 {actual} does not match "
            f"manifest {manifest.sha256}; refusing to load it"
        )
    return manifest
