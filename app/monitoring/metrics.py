"""Model metrics computed when scraped: what each version is, and how far traffic drifted.

They describe this worker's loaded models and the shared prediction log, so
they are computed at scrape time rather than kept in per-process files
(multiprocess gauges of a value every worker shares would be summed or
picked at random). Drift reads the newest ``DRIFT_WINDOW`` logged rows per
version: a few milliseconds per scrape.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.ml.drift import FeatureDrift
from app.ml.registry import ModelRegistry
from app.monitoring.service import drift_of
from app.predlog.sinks import PredictionSink
from auth.store import STORE_UNAVAILABLE


class _Snapshot(Collector):
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self._families


async def model_exposition(models: ModelRegistry, sink: PredictionSink, window: int) -> bytes:
    info = GaugeMetricFamily(
        "model_info", "The model each version serves (1 per loaded artifact).",
        labels=["model_version", "algorithm", "sha256"],
    )  # fmt: skip
    psi = GaugeMetricFamily(
        "model_drift_psi",
        "PSI of each feature over the newest logged predictions vs training (drift > 0.2).",
        labels=["model_version", "feature"],
    )
    window_size = GaugeMetricFamily(
        "model_drift_window_size", "Logged predictions the drift gauges were computed over.",
        labels=["model_version"],
    )  # fmt: skip
    for version in models.versions:
        manifest = models[version].manifest
        info.add_metric([version, manifest.algorithm, manifest.sha256], 1.0)
        try:
            size, drifts = await drift_of(sink, manifest, window)
        except STORE_UNAVAILABLE:
            # Metrics matter most during an outage: the rest of the scrape goes out,
            # the drift gauges are left out until the log's store answers again.
            continue
        window_size.add_metric([version], float(size))
        for drift in _measured(drifts):
            psi.add_metric([version, drift.name], drift.psi or 0.0)
    registry = CollectorRegistry()
    registry.register(_Snapshot([info, psi, window_size]))
    return generate_latest(registry)


def _measured(drifts: list[FeatureDrift]) -> list[FeatureDrift]:
    return [drift for drift in drifts if drift.psi is not None]
