"""Reading data/housing.csv into arrays (yes/no columns become 1.0/0.0)."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

YES_NO = {"yes": 1.0, "no": 0.0}


@dataclass(frozen=True)
class Dataset:
    features: dict[str, np.ndarray]
    price: np.ndarray
    sha256: str

    @property
    def rows(self) -> int:
        return len(self.price)

    def matrix(self, names: list[str]) -> np.ndarray:
        return np.column_stack([self.features[name] for name in names])


def load_dataset(path: Path) -> Dataset:
    raw = path.read_bytes()
    reader = csv.DictReader(raw.decode("utf-8").splitlines())
    columns: dict[str, list[float]] = {}
    for row in reader:
        for name, value in row.items():
            columns.setdefault(name, []).append(_number(value))
    price = np.asarray(columns.pop("price"))
    features = {name: np.asarray(values) for name, values in columns.items()}
    return Dataset(features, price, hashlib.sha256(raw).hexdigest())


def _number(value: str) -> float:
    if value in YES_NO:
        return YES_NO[value]
    return float(value)
