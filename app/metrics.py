"""Prometheus metrics, aggregated over every Gunicorn worker.

With ``PROMETHEUS_MULTIPROC_DIR`` set (Gunicorn, ``make stack``, the image),
each worker writes its samples to files there and a scrape of any worker
reads them all; without it (the embedded server) the process registry is the
whole story. Labels are route *templates*, never raw paths, so a scanner
cannot blow up the series count.
"""

from __future__ import annotations

import os
import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UNMATCHED = "unmatched"

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


class MetricsMiddleware:
    """Counts every HTTP answer and times it to the start of the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def timed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                route = _route(scope)
                LATENCY.labels(route, scope["method"]).observe(time.perf_counter() - started)
                REQUESTS.labels(route, scope["method"], str(status)).inc()
            await send(message)

        await self.app(scope, receive, timed_send)


def _route(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", UNMATCHED)
