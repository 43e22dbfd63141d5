"""Users through the service: validation, hashing, listing, the audit trail."""

from __future__ import annotations

import pytest

from auth.context import AuthContext
from auth.errors import InvalidInput
from auth.store.base import AlreadyExists

pytestmark = pytest.mark.anyio


async def test_create_hashes_the_password(context: AuthContext) -> None:
    created = await context.users.create("alice", "long enough pw", ["predict"])
    assert created.password_hash.startswith("$argon2id$")
    assert "long enough pw" not in created.password_hash
    assert await context.users.get("alice") == created
    assert [u.username for u in await context.users.list()] == ["alice"]
    assert await context.users.count() == 1


async def test_a_taken_username_is_refused(context: AuthContext) -> None:
    await context.users.create("alice", "long enough pw", ["predict"])
    with pytest.raises(AlreadyExists):
        await context.users.create("alice", "another long pw", ["admin"])


@pytest.mark.parametrize(
    ("username", "password", "scopes"),
    [
        ("", "long enough pw", ["predict"]),
        ("has space", "long enough pw", ["predict"]),
        ("-leading-dash", "long enough pw", ["predict"]),
        ("a" * 65, "long enough pw", ["predict"]),
        ("alice", "short", ["predict"]),
        ("alice", "x" * 2000, ["predict"]),
        ("alice", "long enough pw", ["root"]),
    ],
)
async def test_invalid_users_are_refused(
    context: AuthContext, username: str, password: str, scopes: list[str]
) -> None:
    with pytest.raises(InvalidInput):
        await context.users.create(username, password, scopes)
    assert await context.users.count() == 0


async def test_audit_trail(context: AuthContext) -> None:
    await context.audit.record("admin", "key.create", "k1", "203.0.113.9")
    await context.audit.record("admin", "user.delete", "bob")
    recent = await context.audit.recent(10)
    assert [(e.action, e.target, e.client_ip) for e in recent] == [
        ("user.delete", "bob", None),
        ("key.create", "k1", "203.0.113.9"),
    ]
    assert len(await context.audit.recent(1)) == 1
    assert await context.audit.recent(-5) == []


async def test_changes_are_validated_and_unknown_users_are_none(context: AuthContext) -> None:
    await context.users.create("alice", "a long enough passphrase", ["predict"])
    with pytest.raises(InvalidInput):
        await context.users.set_scopes("alice", ["superuser"])
    with pytest.raises(InvalidInput):
        await context.users.set_password("alice", "short")
    assert await context.users.set_scopes("nobody", ["predict"]) is None
    assert await context.users.set_password("nobody", "a long enough passphrase") is None
    changed = await context.users.set_scopes("alice", ["admin"])
    assert changed is not None
    assert changed.scopes == {"admin"}
