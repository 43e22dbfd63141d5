"""Drift of a served version: its newest logged predictions against its training data."""

from __future__ import annotations

from app.ml.drift import FeatureDrift, feature_drift
from app.ml.manifest import Manifest
from app.predlog.sinks import PredictionSink


async def drift_of(
    sink: PredictionSink, manifest: Manifest, window: int
) -> tuple[int, list[FeatureDrift]]:
    """(rows compared, drift per feature) over the version's newest ``window`` predictions.

    Only rows logged with the manifest's own feature order count: after a
    reload that changed the features, older rows describe another model.
    """
    entries = await sink.newest(manifest.version, window)
    width = len(manifest.feature_names)
    rows = [entry.features for entry in entries if len(entry.features) == width]
    return len(rows), feature_drift(manifest, rows)
