"""What the prediction log stores: one entry per request (a batch's rows in chunks).

A row per stream entry cost the worker 17 ms of CPU per 1,000-row batch
(three times the batch's own prediction cost); one entry per chunk of up to
``CHUNK_ROWS`` rows costs 0.96 ms (measured: ``RedisStreamSink.write`` against
a local redis-server, CPU time of the writing process). A single prediction
costs about 20 µs either way. Readers get
rows back as ``LoggedPrediction``, newest first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

CHUNK_ROWS = 100
"""Rows per stored entry: bounds an entry's size, so capping entries caps rows."""


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


@dataclass(frozen=True, slots=True)
class PredictionEvent:
    """One request's predictions: a single row, or rows of a batch (in request order)."""

    version: str
    model_sha256: str
    rows: Sequence[Sequence[float]]
    prices: Sequence[float]
    at: float
    principal: str
    request_id: str

    def chunks(self) -> Iterator[PredictionEvent]:
        """Itself, cut into entries of at most ``CHUNK_ROWS`` rows."""
        for start in range(0, len(self.prices), CHUNK_ROWS):
            yield PredictionEvent(
                version=self.version,
                model_sha256=self.model_sha256,
                rows=self.rows[start : start + CHUNK_ROWS],
                prices=self.prices[start : start + CHUNK_ROWS],
                at=self.at,
                principal=self.principal,
                request_id=self.request_id,
            )

    def newest_first(self) -> list[LoggedPrediction]:
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
            for row, price in zip(reversed(self.rows), reversed(self.prices), strict=True)
        ]

    def fields(self) -> dict[str, str]:
        """Flat string fields: one Redis stream entry, one SQLite row."""
        return {
            "rows": json.dumps([list(row) for row in self.rows], separators=(",", ":")),
            "prices": json.dumps(list(self.prices), separators=(",", ":")),
            "at": repr(self.at),
            "model_sha256": self.model_sha256,
            "principal": self.principal,
            "request_id": self.request_id,
        }

    @classmethod
    def from_fields(cls, version: str, fields: Mapping[str, str]) -> PredictionEvent:
        return cls(
            version=version,
            model_sha256=fields["model_sha256"],
            rows=json.loads(fields["rows"]),
            prices=json.loads(fields["prices"]),
            at=float(fields["at"]),
            principal=fields["principal"],
            request_id=fields["request_id"],
        )


def newest_rows(
    events_newest_first: Sequence[PredictionEvent], count: int
) -> list[LoggedPrediction]:
    rows: list[LoggedPrediction] = []
    for event in events_newest_first:
        rows.extend(event.newest_first())
        if len(rows) >= count:
            break
    return rows[:count]
