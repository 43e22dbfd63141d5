"""The app sees the client nginx saw, whatever forwarding headers the client sends."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.stack import api
from tests.stack.harness import RunningStack

pytestmark = pytest.mark.stack

# Linux routes all of 127.0.0.0/8 to loopback: a client address that is not
# nginx's own (127.0.0.1), so "the app saw nginx" and "the app saw the client"
# give different answers.
CLIENT_ADDRESS = "127.0.0.2"
FORGED = "203.0.113.7"


def audit_events(payload: Any) -> list[dict[str, Any]]:
    if isinstance(payload, list):
        return payload
    (events,) = [value for value in payload.values() if isinstance(value, list)]
    return events


def test_audit_records_the_real_client_not_a_forged_one(
    stack: RunningStack, admin_headers: dict[str, str]
) -> None:
    transport = httpx.HTTPTransport(verify=stack.ssl_context(), local_address=CLIENT_ADDRESS)
    forged = {
        "X-Forwarded-For": f"{FORGED}, 198.51.100.1",
        "X-Real-IP": FORGED,
        "Forwarded": f"for={FORGED}",
    }
    with httpx.Client(base_url=stack.base_url, transport=transport) as client:
        created = api.predict_key(client, {**admin_headers, **forged}, "10/minute", name="ip-probe")
        audit = client.get("/admin/audit", params={"limit": 50}, headers=admin_headers)
    assert audit.status_code == 200, audit.text
    events = [event for event in audit_events(audit.json()) if created["id"] in json.dumps(event)]
    assert events, audit.text
    assert events[0]["client_ip"] == CLIENT_ADDRESS

    seen_by_nginx = {json.loads(line)["remote_addr"] for line in stack.access_log().splitlines()}
    assert CLIENT_ADDRESS in seen_by_nginx
    assert FORGED not in seen_by_nginx
