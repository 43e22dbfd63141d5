"""One logged prediction, and how it is written to and read from a store."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PredictionEvent:
    """One request's predictions: a single row, or every row of a batch.

    Queued as one item per request, so logging a 1,000-row batch costs the
    request one ``put_nowait``; the writer expands it into rows.
    """

    version: str
    model_sha256: str
    rows: Sequence[Sequence[float]]
    prices: Sequence[float]
    at: float
    principal: str
    request_id: str

    def entries(self) -> list[LoggedPrediction]:
        return [
            LoggedPrediction(
                version=self.version,
                model_sha256=self.model_sha256,
                features=[float(value) for value in row],
                price=float(price),
                at=self.at,
                principal=self.principal,
                request_id=self.request_id,
            )
            for row, price in zip(self.rows, self.prices, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class LoggedPrediction:
    version: str
    model_sha256: str
    features: list[float]
    """In the model's feature order (the manifest's ``feature_names``)."""
    price: float
    at: float
    """Unix time of the request."""
    principal: str
    """``key:<id>`` or ``user:<name>``: never a secret."""
    request_id: str

    def fields(self) -> dict[str, str]:
        """Flat string fields: one Redis stream entry, one SQLite row."""
        return {
            "features": json.dumps(self.features, separators=(",", ":")),
            "price": repr(self.price),
            "at": repr(self.at),
            "model_sha256": self.model_sha256,
            "principal": self.principal,
            "request_id": self.request_id,
        }

    @classmethod
    def from_fields(cls, version: str, fields: Mapping[str, str]) -> LoggedPrediction:
        return cls(
            version=version,
            model_sha256=fields["model_sha256"],
            features=[float(value) for value in json.loads(fields["features"])],
            price=float(fields["price"]),
            at=float(fields["at"]),
            principal=fields["principal"],
            request_id=fields["request_id"],
        )
