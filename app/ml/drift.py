"""Drift of live traffic from the training data, feature by feature (PSI, see distribution.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.ml.distribution import DRIFT_THRESHOLD, psi
from app.ml.manifest import Manifest


@dataclass(frozen=True, slots=True)
class FeatureDrift:
    name: str
    psi: float | None
    """``None`` when the window is empty: no traffic is not the same as no drift."""
    drifted: bool


def feature_drift(manifest: Manifest, rows: Sequence[Sequence[float]]) -> list[FeatureDrift]:
    """PSI of each feature of ``rows`` (model feature order) against the manifest's training."""
    matrix = np.asarray(rows, dtype=float).reshape(len(rows), len(manifest.feature_names))
    drifts = []
    for index, name in enumerate(manifest.feature_names):
        if not len(matrix):
            drifts.append(FeatureDrift(name=name, psi=None, drifted=False))
            continue
        value = round(psi(manifest.distribution[name], matrix[:, index]), 6)
        drifts.append(FeatureDrift(name=name, psi=value, drifted=value > DRIFT_THRESHOLD))
    return drifts
