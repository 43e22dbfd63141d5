"""The HTTP contract (API.md) as small helpers for the stack tests."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx

from tests.stack.harness import RunningStack

V1_FEATURES: dict[str, Any] = {
    "lotsize": 5850.0,
    "bedrooms": 3,
    "bathrms": 1,
    "stories": 2,
    "garagepl": 1,
}
V2_FEATURES: dict[str, Any] = {
    **V1_FEATURES,
    "driveway": True,
    "recroom": False,
    "fullbase": True,
    "gashw": False,
    "airco": False,
    "prefarea": False,
}


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def password_token(
    client: httpx.Client, username: str, password: str, scope: str | None = None
) -> dict[str, Any]:
    form = {"grant_type": "password", "username": username, "password": password}
    if scope is not None:
        form["scope"] = scope
    response = client.post("/token", data=form)
    assert response.status_code == 200, response.text
    return response.json()


def create_key(
    client: httpx.Client,
    headers: dict[str, str],
    *,
    name: str,
    scopes: list[str],
    rate_limit: str,
) -> dict[str, Any]:
    body = {"name": name, "scopes": scopes, "rate_limit": rate_limit}
    response = client.post("/admin/keys", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def create_user(
    client: httpx.Client, headers: dict[str, str], username: str, password: str, scopes: list[str]
) -> None:
    body = {"username": username, "password": password, "scopes": scopes}
    response = client.post("/admin/users", json=body, headers=headers)
    assert response.status_code == 201, response.text


def admin_key_headers(stack: RunningStack) -> dict[str, str]:
    """Headers of a fresh admin API key, made by the first admin's token.

    The key has room to spare, so admin calls never meet the tight per-user
    limit the limit tests rely on.
    """
    with stack.client() as client:
        token = password_token(client, stack.admin_username, stack.admin_password)
        key = create_key(
            client,
            bearer(token["access_token"]),
            name=unique("stack-tests-admin"),
            scopes=["admin", "predict"],
            rate_limit="100000/minute",
        )
    return {"X-API-Key": key["key"]}


def revoke_key(client: httpx.Client, headers: dict[str, str], key_id: str) -> None:
    response = client.delete(f"/admin/keys/{key_id}", headers=headers)
    assert response.status_code == 204, response.text


async def burst(
    client: httpx.AsyncClient, count: int, path: str, json: Any, headers: dict[str, str]
) -> list[httpx.Response]:
    """``count`` POSTs at once (as many in flight as the client's pool allows)."""
    return await asyncio.gather(
        *(client.post(path, json=json, headers=headers) for _ in range(count))
    )
