"""What nginx itself guarantees at the edge, observed from a client."""

from __future__ import annotations

import json
import re
import socket
import ssl
import subprocess
from typing import Any

import httpx
import pytest

from app.ml.features import feature_specs
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


def test_plain_http_redirects_permanently_to_https_on_the_public_name(
    stack: RunningStack,
) -> None:
    """The configured name, never the client's Host (which anyone can set)."""
    response = httpx.get(
        f"http://127.0.0.1:{stack.http_port}/v1/model?verbose=1",
        headers={"Host": "evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 301
    assert (
        response.headers["location"] == f"https://localhost:{stack.https_port}/v1/model?verbose=1"
    )
    assert "strict-transport-security" not in response.headers


def test_the_app_never_sees_a_client_chosen_host(client: httpx.Client) -> None:
    response = client.get("/v1/model/", headers={"Host": "evil.example"}, follow_redirects=False)
    assert response.status_code in (401, 404)
    assert "location" not in response.headers


@pytest.mark.parametrize("path", ["/readyz", "/metrics", "/no/such/path"])
def test_every_https_answer_carries_hsts(client: httpx.Client, path: str) -> None:
    assert client.get(path).headers["strict-transport-security"] == HSTS


def test_server_header_names_no_version(client: httpx.Client, stack: RunningStack) -> None:
    assert client.get("/readyz").headers["server"] == "nginx"
    redirect = httpx.get(f"http://127.0.0.1:{stack.http_port}/", follow_redirects=False)
    assert redirect.headers["server"] == "nginx"


def test_a_well_formed_client_request_id_is_kept_end_to_end(
    client: httpx.Client, stack: RunningStack
) -> None:
    response = client.get("/readyz", headers={"X-Request-ID": "client.trace-42_A"})
    assert response.headers.get_list("x-request-id") == ["client.trace-42_A"]
    assert access_entry(stack, "client.trace-42_A")["path"] == "/readyz"


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "semi;colon", ""])
def test_request_id_is_nginx_s_own_unless_the_client_s_is_well_formed(
    client: httpx.Client, stack: RunningStack, bad: str
) -> None:
    spoofed = {"X-Request-ID": bad}
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


def test_largest_legal_batch_gets_past_the_edge(
    client: httpx.Client, stack: RunningStack, admin_headers: dict[str, str]
) -> None:
    """1000 v2 instances at the widest accepted values, pretty-printed, fit under the cap
    and are answered (the bounds come from the feature specs, so they cannot drift apart)."""
    widest: dict[str, object] = dict(V2_FEATURES)
    for spec in feature_specs("v2"):
        if spec.allowed_max is not None:
            widest[spec.name] = (
                spec.allowed_max - 0.123456789012345
                if spec.type == "number"
                else int(spec.allowed_max)
            )
    body = json.dumps({"instances": [widest] * 1000}, indent=2).encode()
    assert len(body) < BODY_CAP
    response = client.post(
        "/v2/predict/batch",
        content=body,
        headers={"Content-Type": "application/json", **admin_headers},
    )
    assert response.status_code == 200, response.text[:500]
    assert len(response.json()["predictions"]) == 1000
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


def test_a_chunked_body_over_the_cap_is_a_413_not_a_500(client: httpx.Client) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(BODY_CAP // 65_536 + 2):
            yield b" " * 65_536

    response = client.post(
        "/v2/predict/batch", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}


def test_an_http2_body_over_the_cap_is_a_413_not_a_500(stack: RunningStack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    body = tmp_path / "body.json"
    body.write_bytes(b" " * (BODY_CAP + 65_536))
    answer = subprocess.run(
        ["curl", "-sS", "--http2", "--cacert", str(stack.ca_file), "-H", "Transfer-Encoding:",
         "-H", "Content-Type: application/json", "--data-binary", f"@{body}",
         "-w", "\n%{http_version} %{http_code}", f"{stack.base_url}/v2/predict/batch"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    text, _, status = answer.rpartition("\n")
    assert status == "2 413"
    assert json.loads(text) == {"detail": "Request body too large"}


def _raw_https(stack: RunningStack, request: bytes) -> bytes:
    context = stack.ssl_context()
    with (
        socket.create_connection(("127.0.0.1", stack.https_port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        tls.sendall(request)
        answer = b""
        while chunk := tls.recv(65_536):
            answer += chunk
    return answer


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"a" * 9000
         + b"\r\nConnection: close\r\n\r\n", 494),
        (b"GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
    ],
    ids=["header too large", "no host"],
)  # fmt: skip
def test_edge_errors_speak_json(stack: RunningStack, request_bytes: bytes, status: int) -> None:
    head, _, body = _raw_https(stack, request_bytes).partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == str(status).encode() or (status == 494 and b" 400 " in head)
    assert json.loads(body.decode().strip().splitlines()[-1])["detail"]
