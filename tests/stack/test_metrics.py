"""/metrics aggregates every worker's samples (nginx hiding it is tested in test_edge)."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.stack import api
from tests.stack.harness import RunningStack

pytestmark = [pytest.mark.stack, pytest.mark.anyio]

BURST = 40


def _v1_predictions(stack: RunningStack, admin: dict[str, str]) -> float:
    """Scrape one worker directly, as an internal Prometheus would (nginx hides /metrics)."""
    transport = httpx.HTTPTransport(uds=stack.info.app_sockets[0])
    with httpx.Client(transport=transport, base_url="http://app") as app:
        response = app.get("/metrics", headers={**admin, "Connection": "close"})
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == "predictions_total" and sample.labels == {"model_version": "v1"}:
                return sample.value
    return 0.0


async def test_a_scrape_of_any_worker_counts_every_worker(
    stack: RunningStack, admin_headers: dict[str, str]
) -> None:
    before = _v1_predictions(stack, admin_headers)
    with stack.client() as client:
        key = api.predict_key(client, admin_headers, "100000/minute", name=api.unique("metrics"))
    async with stack.async_client() as client:
        responses = await api.predict_burst(client, BURST, api.key_headers(key))
    assert {response.status_code for response in responses} == {200}
    # Each scrape opens a new connection, so successive scrapes reach either worker;
    # a per-process registry would show only the share that worker served.
    for _ in range(4):
        assert _v1_predictions(stack, admin_headers) - before == BURST
