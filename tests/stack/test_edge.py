"""What nginx itself guarantees at the edge, observed from a client."""

from __future__ import annotations

import json
import re
import socket
import ssl
from typing import Any

import httpx
import pytest

from tests.stack.harness import RunningStack
from tests.support.payloads import V2_FEATURES

pytestmark = pytest.mark.stack

HSTS = "max-age=63072000"
BODY_CAP = 384 * 1024
REQUEST_ID = re.compile(r"^[0-9a-f]{32}$")


def access_entry(stack: RunningStack, request_id: str) -> dict[str, Any]:
    return stack.access_entries([request_id])[request_id]


def test_readyz_answers_200_through_nginx(client: httpx.Client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_plain_http_redirects_permanently_to_https(stack: RunningStack) -> None:
    response = httpx.get(
        f"http://127.0.0.1:{stack.http_port}/v1/model?verbose=1", follow_redirects=False
    )
    assert response.status_code == 301
    assert (
        response.headers["location"] == f"https://127.0.0.1:{stack.https_port}/v1/model?verbose=1"
    )
    assert "strict-transport-security" not in response.headers


@pytest.mark.parametrize("path", ["/readyz", "/metrics", "/no/such/path"])
def test_every_https_answer_carries_hsts(client: httpx.Client, path: str) -> None:
    assert client.get(path).headers["strict-transport-security"] == HSTS


def test_server_header_names_no_version(client: httpx.Client, stack: RunningStack) -> None:
    assert client.get("/readyz").headers["server"] == "nginx"
    redirect = httpx.get(f"http://127.0.0.1:{stack.http_port}/", follow_redirects=False)
    assert redirect.headers["server"] == "nginx"


def test_request_id_is_nginx_s_own_and_reaches_the_app(
    client: httpx.Client, stack: RunningStack
) -> None:
    spoofed = {"X-Request-ID": "chosen-by-the-client"}
    first, second = client.get("/readyz", headers=spoofed), client.get("/readyz", headers=spoofed)
    ids = [response.headers.get_list("x-request-id") for response in (first, second)]
    assert all(len(values) == 1 for values in ids), ids
    first_id, second_id = ids[0][0], ids[1][0]
    assert REQUEST_ID.match(first_id)
    assert first_id != second_id
    # The answer came from the app, which echoed the id nginx sent it.
    entry = access_entry(stack, first_id)
    assert entry["upstream_addr"]
    assert entry["path"] == "/readyz"


def test_body_over_the_cap_is_refused_by_nginx(client: httpx.Client, stack: RunningStack) -> None:
    oversized = b'{"instances": [' + b" " * BODY_CAP + b"]}"
    response = client.post(
        "/v2/predict/batch", content=oversized, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert response.headers["strict-transport-security"] == HSTS
    assert access_entry(stack, response.headers["x-request-id"])["upstream_addr"] == ""


def test_largest_legal_batch_gets_past_the_edge(client: httpx.Client, stack: RunningStack) -> None:
    """1000 v2 instances with the widest legal values, pretty-printed, fit under the cap."""
    widest = {
        **V2_FEATURES,
        "lotsize": 123456.78901234567,
        "bedrooms": 20,
        "bathrms": 20,
        "stories": 10,
        "garagepl": 20,
    }
    body = json.dumps({"instances": [widest] * 1000}, indent=2).encode()
    assert len(body) < BODY_CAP
    response = client.post(
        "/v2/predict/batch", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code != 413
    assert access_entry(stack, response.headers["x-request-id"])["upstream_addr"]


@pytest.mark.parametrize(
    "path", ["/metrics", "/metrics/", "//metrics", "/%6Detrics", "/metrics?format=text"]
)
def test_metrics_are_not_served_from_outside(
    client: httpx.Client, stack: RunningStack, path: str
) -> None:
    # A full URL, so the client sends the path exactly as written.
    response = client.get(f"{stack.base_url}{path}")
    assert response.status_code == 404
    assert "# TYPE" not in response.text
    assert access_entry(stack, response.headers["x-request-id"])["upstream_addr"] == ""


def test_http2_is_negotiated(stack: RunningStack) -> None:
    context = stack.ssl_context()
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", stack.https_port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.selected_alpn_protocol() == "h2"


def test_plain_http_on_the_https_port_is_refused(stack: RunningStack) -> None:
    response = httpx.get(f"http://127.0.0.1:{stack.https_port}/readyz")
    assert response.status_code == 400


def test_unverified_certificate_chain_is_rejected_by_a_default_client(
    stack: RunningStack,
) -> None:
    """The edge's certificate is trusted through the development CA only."""
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{stack.base_url}/readyz", verify=ssl.create_default_context())
