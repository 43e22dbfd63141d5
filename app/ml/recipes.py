"""What each version is, and the baseline the challenger must not lose to.

Every recipe models log(price): prices are right-skewed and their errors
roughly multiplicative. The baseline is the specification of the data's
source paper (Anglin & Gençay 1996): OLS of log price on log lot size and
the other ten features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline

from app.ml.basis import HedonicBasis

R2_TOLERANCE = 0.005
"""How far below the baseline's CV R²(log price) a challenger may be and still be published."""


@dataclass(frozen=True)
class Recipe:
    algorithm: str
    knot_quantiles: tuple[float, ...] = ()

    def estimator(self) -> TransformedTargetRegressor:
        return TransformedTargetRegressor(
            regressor=Pipeline(
                [("basis", HedonicBasis(self.knot_quantiles)), ("ols", LinearRegression())]
            ),
            func=np.log,
            inverse_func=np.exp,
        )


RECIPES: dict[str, Recipe] = {
    "v1": Recipe("OLS of log price on log lot size and four counts (hedonic form)"),
    "v2": Recipe(
        "partially linear: linear spline in log lot size (knot at the training median) "
        "plus ten linear terms, OLS on log price",
        knot_quantiles=(0.5,),
    ),
}
BASELINE = Recipe("OLS of log price on log lot size and ten features (Anglin & Gençay 1996)")
BASELINE_VERSION = "v2"
"""The baseline is fitted on the challenger's eleven features, the paper's specification."""
