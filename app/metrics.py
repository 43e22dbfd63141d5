"""Prometheus metrics, aggregated over every Gunicorn worker.

With ``PROMETHEUS_MULTIPROC_DIR`` set (Gunicorn, ``make stack``, the image),
each worker writes its samples to files there and a scrape of any worker
reads them all; without it (the embedded server) the process registry is the
whole story. Labels are route *templates*, never raw paths, so a scanner
cannot blow up the series count.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import Message, Scope

from app.middleware.response_start import ResponseStartMiddleware

UNMATCHED = "unmatched"
STARTED_KEY = "metrics_started_at"

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


def exposition() -> tuple[bytes, str]:
    """The text a scrape returns, and its content type."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    return generate_latest(registry), CONTENT_TYPE_LATEST


class MetricsMiddleware(ResponseStartMiddleware):
    """Counts every HTTP answer and times it to the start of the response."""

    @contextlib.contextmanager
    def around_request(self, scope: Scope) -> Iterator[None]:
        scope[STARTED_KEY] = time.perf_counter()
        yield

    def on_response_start(self, scope: Scope, message: Message) -> None:
        route = _route(scope)
        elapsed = time.perf_counter() - scope[STARTED_KEY]
        LATENCY.labels(route, scope["method"]).observe(elapsed)
        REQUESTS.labels(route, scope["method"], str(message["status"])).inc()


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", UNMATCHED)
