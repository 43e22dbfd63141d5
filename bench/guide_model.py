"""The guide's model: a scikit-learn ``LinearRegression`` of price on the five v1 features.

Trained from ``data/housing.csv`` the way the guide does it (all rows, raw
features, no target transform) and saved with joblib; deliberately not the
product's training code, so the baseline carries the guide's per-call
scikit-learn cost and nothing of ours.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import joblib
from sklearn.linear_model import LinearRegression

FEATURES = ("lotsize", "bedrooms", "bathrms", "stories", "garagepl")


def train(data: Path, out: Path) -> Path:
    with data.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    x = [[float(row[name]) for name in FEATURES] for row in rows]
    y = [float(row["price"]) for row in rows]
    out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(LinearRegression().fit(x, y), out)
    return out


if __name__ == "__main__":
    print(train(Path(sys.argv[1]), Path(sys.argv[2])))
