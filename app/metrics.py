"""Prometheus metrics, aggregated over every Gunicorn worker.

With ``PROMETHEUS_MULTIPROC_DIR`` set (Gunicorn, ``make stack``, the image),
each worker writes its samples to files there and a scrape of any worker
reads them all; without it (the embedded server) the process registry is the
whole story. Labels are route *templates*, never raw paths, so a scanner
cannot blow up the series count.
"""

from __future__ import annotations

import functools
import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

REQUESTS = Counter(
    "http_requests", "HTTP requests answered, by route template, method and status.",
    ["route", "method", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "http_request_duration_seconds", "Time from request to response start, by route template.",
    ["route", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)  # fmt: skip
PREDICTIONS = Counter(
    "predictions", "Prices predicted (rows, batches counted per row), by model version.",
    ["model_version"],
)  # fmt: skip
MODEL_RELOADS = Counter(
    "model_reloads", "Reload requests acted on by this worker, by outcome: done, refused.",
    ["outcome"],
)  # fmt: skip
PREDICTION_LOG_WRITTEN = Counter(
    "prediction_log_written", "Predictions written to the prediction log (rows).",
)  # fmt: skip
PREDICTION_LOG_DROPPED = Counter(
    "prediction_log_dropped",
    "Predictions not logged (rows), by reason: queue_full, store_error, shutdown.",
    ["reason"],
)  # fmt: skip


def exposition() -> tuple[bytes, str]:
    """The text a scrape returns, and its content type."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


@functools.lru_cache(maxsize=1024)
def _latency(route: str, method: str) -> Histogram:
    return LATENCY.labels(route, method)


@functools.lru_cache(maxsize=1024)
def _requests(route: str, method: str, status: int) -> Counter:
    return REQUESTS.labels(route, method, str(status))


def observe_response(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answer and time it to the start of the response.

    The labelled children are looked up once per (route, method, status) and
    kept: ``labels()`` costs more than the observation itself. The key space is
    bounded, since routes are templates (``UNMATCHED`` for anything else).
    """
    _latency(route, method).observe(seconds)
    _requests(route, method, status).inc()
