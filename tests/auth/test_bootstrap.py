"""The first admin appears once, only on an empty store, and can log in; when users already
exist, the outcome says why the configured admin is not what exists."""

from __future__ import annotations

import asyncio

import pytest

from auth.bootstrap import FirstAdminOutcome, ensure_first_admin
from auth.context import AuthContext

pytestmark = pytest.mark.anyio

PASSWORD = "first admin passphrase"


async def test_creates_the_first_admin(context: AuthContext) -> None:
    assert await ensure_first_admin(context, "root", PASSWORD) == FirstAdminOutcome(created=True)
    admin = await context.users.get("root")
    assert admin is not None
    assert admin.scopes == frozenset({"admin", "predict"})
    grant = await context.tokens.password_grant("root", PASSWORD)
    assert grant.scope == "admin predict"
    assert [e.action for e in await context.audit.recent(5)] == ["user.create"]


async def test_is_idempotent_and_quiet_when_the_admin_is_as_configured(
    context: AuthContext,
) -> None:
    await ensure_first_admin(context, "root", PASSWORD)
    before = await context.users.get("root")
    again = await ensure_first_admin(context, "ROOT", PASSWORD)
    assert again == FirstAdminOutcome(created=False, ignored=None)
    assert await context.users.get("root") == before


async def test_another_password_is_ignored_and_said(context: AuthContext) -> None:
    await ensure_first_admin(context, "root", PASSWORD)
    before = await context.users.get("root")
    outcome = await ensure_first_admin(context, "root", "a different passphrase")
    assert not outcome.created
    assert outcome.ignored is not None
    assert "'root' exists with another password" in outcome.ignored
    assert await context.users.get("root") == before
    await context.tokens.password_grant("root", PASSWORD)  # unchanged


async def test_does_nothing_when_any_user_exists_and_says_so(context: AuthContext) -> None:
    await context.users.create("alice", "long enough passphrase", ["predict"])
    outcome = await ensure_first_admin(context, "root", PASSWORD)
    assert outcome == FirstAdminOutcome(
        created=False, ignored="users already exist and none is named 'root'"
    )
    assert await context.users.get("root") is None
    alice = await ensure_first_admin(context, "alice", "long enough passphrase")
    assert alice.ignored == "'alice' exists without the admin scope"


async def test_workers_starting_together_create_one_admin_and_none_complains(
    context: AuthContext,
) -> None:
    results = await asyncio.gather(
        *(ensure_first_admin(context, "root", PASSWORD) for _ in range(4))
    )
    assert sorted(r.created for r in results) == [False, False, False, True]
    assert [r.ignored for r in results] == [None] * 4
    assert await context.users.count() == 1
