"""The training distribution of each feature, and the population stability index against it.

Each feature is summarised by interior cut points and the fraction of
training rows between them: deciles for a continuous feature, one bin per
observed value for integers and booleans (cuts half-way between values).
PSI = Σ (live - train) · ln(live / train) over the bins, with empty bins
floored at ``EPSILON`` so a bin the live window never hits does not make it
infinite. Above 0.2 a feature is conventionally said to have drifted.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel

from app.ml.features import FeatureSpec

CONTINUOUS_BINS = 10
EPSILON = 1e-4
DRIFT_THRESHOLD = 0.2


class FeatureDistribution(BaseModel):
    cuts: list[float]
    """Interior bin edges: a value v falls in bin ``searchsorted(cuts, v, 'right')``."""
    fractions: list[float]
    """Share of training rows per bin (``len(cuts) + 1`` bins)."""


def _cuts(spec: FeatureSpec, column: np.ndarray) -> list[float]:
    if spec.type == "number":
        quantiles = np.linspace(0, 1, CONTINUOUS_BINS + 1)[1:-1]
        return sorted(set(np.quantile(column, quantiles).round(6).tolist()))
    values = np.unique(column)
    return [float(v) for v in (values[:-1] + values[1:]) / 2]


def bin_fractions(cuts: Sequence[float], values: np.ndarray) -> np.ndarray:
    counts = np.bincount(
        np.searchsorted(np.asarray(cuts), values, side="right"), minlength=len(cuts) + 1
    )
    return counts / max(len(values), 1)


def training_distribution(
    specs: Sequence[FeatureSpec], matrix: np.ndarray
) -> dict[str, FeatureDistribution]:
    distribution = {}
    for spec, column in zip(specs, np.asarray(matrix, dtype=float).T, strict=True):
        cuts = _cuts(spec, column)
        fractions = bin_fractions(cuts, column)
        distribution[spec.name] = FeatureDistribution(
            cuts=cuts, fractions=[round(float(f), 6) for f in fractions]
        )
    return distribution


def psi(expected: FeatureDistribution, live_values: np.ndarray) -> float:
    train = np.maximum(np.asarray(expected.fractions), EPSILON)
    live = np.maximum(bin_fractions(expected.cuts, np.asarray(live_values, dtype=float)), EPSILON)
    return float(np.sum((live - train) * np.log(live / train)))
