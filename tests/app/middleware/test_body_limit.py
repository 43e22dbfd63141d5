"""Bodies over the cap are refused before anything reads or parses them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from fastapi.testclient import TestClient

from app.settings import Settings
from tests.app.conftest import REPO
from tests.support.payloads import V2_FEATURES


def test_a_declared_oversized_body_is_413_without_credentials(
    client: TestClient, settings: Settings
) -> None:
    body = b"{" + b" " * settings.max_request_body_bytes + b"}"
    response = client.post("/v1/predict/batch", content=body)
    assert response.status_code == 413
    assert "at most" in response.json()["detail"]


def test_a_streamed_oversized_body_is_413(
    client: TestClient, settings: Settings, admin_headers: dict[str, str]
) -> None:
    # Authenticated, so the body is read (an anonymous caller gets its 401 before that).
    def chunks() -> Iterator[bytes]:
        for _ in range(settings.max_request_body_bytes // 65_536 + 2):
            yield b" " * 65_536

    response = client.post(
        "/v1/predict/batch",
        content=chunks(),
        headers={"content-type": "application/json", **admin_headers},
    )
    assert response.status_code == 413


def test_the_largest_legal_batch_fits_even_indented(settings: Settings) -> None:
    largest = json.dumps({"instances": [V2_FEATURES] * 1000}, indent=2).encode()
    assert len(largest) < settings.max_request_body_bytes


def test_nginx_caps_bodies_at_the_same_size(settings: Settings) -> None:
    template = (REPO / "nginx" / "nginx.conf.template").read_text()
    match = re.search(r"client_max_body_size (\d+)k;", template)
    assert match is not None
    assert int(match.group(1)) * 1024 == settings.max_request_body_bytes
