"""The first admin appears once, only on an empty store, and can log in."""

from __future__ import annotations

import asyncio

import pytest

from auth.bootstrap import ensure_first_admin
from auth.context import AuthContext

pytestmark = pytest.mark.anyio

PASSWORD = "first admin passphrase"


async def test_creates_the_first_admin(context: AuthContext) -> None:
    assert await ensure_first_admin(context, "root", PASSWORD) is True
    admin = await context.users.get("root")
    assert admin is not None
    assert admin.scopes == frozenset({"admin", "predict"})
    grant = await context.tokens.password_grant("root", PASSWORD)
    assert grant.scope == "admin predict"
    assert [e.action for e in await context.audit.recent(5)] == ["user.create"]


async def test_is_idempotent(context: AuthContext) -> None:
    await ensure_first_admin(context, "root", PASSWORD)
    before = await context.users.get("root")
    assert await ensure_first_admin(context, "root", "a different passphrase") is False
    assert await context.users.get("root") == before


async def test_does_nothing_when_any_user_exists(context: AuthContext) -> None:
    await context.users.create("alice", "long enough passphrase", ["predict"])
    assert await ensure_first_admin(context, "root", PASSWORD) is False
    assert await context.users.get("root") is None


async def test_workers_starting_together_create_one_admin(context: AuthContext) -> None:
    results = await asyncio.gather(
        *(ensure_first_admin(context, "root", PASSWORD) for _ in range(4))
    )
    assert sorted(results) == [False, False, False, True]
    assert await context.users.count() == 1
