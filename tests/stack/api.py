"""The HTTP contract (API.md) as small helpers for the stack tests."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx

from tests.stack.harness import RunningStack
from tests.support.payloads import V1_FEATURES


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


def key_headers(key: dict[str, Any]) -> dict[str, str]:
    """Headers that present a key as ``POST /admin/keys`` returned it."""
    return {"X-API-Key": key["key"]}


def predict_key(
    client: httpx.Client, admin_headers: dict[str, str], rate_limit: str, *, name: str
) -> dict[str, Any]:
    """A fresh predict-only key; ``name`` is a prefix, made unique so runs never collide."""
    return create_key(
        client, admin_headers, name=unique(name), scopes=["predict"], rate_limit=rate_limit
    )


def create_user(
    client: httpx.Client, headers: dict[str, str], username: str, password: str, scopes: list[str]
) -> None:
    body = {"username": username, "password": password, "scopes": scopes}
    response = client.post("/admin/users", json=body, headers=headers)
    assert response.status_code == 201, response.text


def predict_user(client: httpx.Client, admin_headers: dict[str, str], name: str) -> tuple[str, str]:
    """A fresh predict-only user: (username, password); ``name`` is a prefix made unique."""
    username, password = unique(name), secrets.token_urlsafe(18)
    create_user(client, admin_headers, username, password, ["predict"])
    return username, password


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
    return key_headers(key)


def revoke_key(client: httpx.Client, headers: dict[str, str], key_id: str) -> None:
    response = client.delete(f"/admin/keys/{key_id}", headers=headers)
    assert response.status_code == 204, response.text


async def predict_burst(
    client: httpx.AsyncClient, count: int, headers: dict[str, str]
) -> list[httpx.Response]:
    """``count`` v1 predictions at once (as many in flight as the client's pool allows)."""
    return await asyncio.gather(
        *(client.post("/v1/predict", json=V1_FEATURES, headers=headers) for _ in range(count))
    )


async def burst_with_new_key(
    stack: RunningStack, admin_headers: dict[str, str], rate_limit: str, count: int, *, name: str
) -> list[httpx.Response]:
    """A ``predict_burst`` of ``count`` by a fresh key limited to ``rate_limit``."""
    with stack.client() as client:
        key = predict_key(client, admin_headers, rate_limit, name=name)
    async with stack.async_client() as client:
        return await predict_burst(client, count, key_headers(key))
