"""Users through the service: validation, hashing, listing, the audit trail."""

from __future__ import annotations

import pytest

from auth.context import AuthContext
from auth.errors import InvalidInput, ScopeCeiling
from auth.store.base import AlreadyExists

pytestmark = pytest.mark.anyio


async def test_create_hashes_the_password(context: AuthContext) -> None:
    created = await context.users.create("alice", "long enough passphrase", ["predict"])
    assert created.password_hash.startswith("$argon2id$")
    assert "long enough passphrase" not in created.password_hash
    assert await context.users.get("alice") == created
    assert [u.username for u in await context.users.list()] == ["alice"]
    assert await context.users.count() == 1


async def test_a_taken_username_is_refused(context: AuthContext) -> None:
    await context.users.create("alice", "long enough passphrase", ["predict"])
    with pytest.raises(AlreadyExists):
        await context.users.create("alice", "another long passphrase", ["admin"])


@pytest.mark.parametrize(
    ("username", "password", "scopes"),
    [
        ("", "long enough passphrase", ["predict"]),
        ("has space", "long enough passphrase", ["predict"]),
        ("-leading-dash", "long enough passphrase", ["predict"]),
        ("a" * 65, "long enough passphrase", ["predict"]),
        ("alice", "short", ["predict"]),
        ("alice", "x" * 2000, ["predict"]),
        ("alice", "long enough passphrase", ["root"]),
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


async def test_usernames_are_one_identity_under_case_and_width(context: AuthContext) -> None:
    created = await context.users.create("RT-Admin", "long enough passphrase", ["predict"])
    assert created.username == "rt-admin"
    for variant in ("rt-admin", "RT-ADMIN", "\uff32\uff34-admin"):  # fullwidth R and T
        with pytest.raises(AlreadyExists):
            await context.users.create(variant, "long enough passphrase", ["predict"])
    grant = await context.tokens.password_grant("RT-ADMIN", "long enough passphrase")
    assert grant.scope == "predict"


@pytest.mark.parametrize(
    "name", ["evil\u202etxt.exe", "tab\there", "zero\u200bwidth", "line\u2028sep"]
)
async def test_key_names_with_control_or_format_characters_are_refused(
    context: AuthContext, name: str
) -> None:
    with pytest.raises(InvalidInput, match="control, formatting"):
        await context.keys.create(name, ["predict"], "10/minute")


async def test_nobody_grants_a_scope_it_does_not_hold(context: AuthContext) -> None:
    admin_only = frozenset({"admin"})
    with pytest.raises(ScopeCeiling, match="predict"):
        await context.keys.create("k", ["predict"], "10/minute", granter_scopes=admin_only)
    with pytest.raises(ScopeCeiling, match="predict"):
        await context.users.create(
            "bob", "long enough passphrase", ["admin", "predict"], granter_scopes=admin_only
        )
    assert await context.users.count() == 0
    issued = await context.keys.create(
        "k", ["admin"], "10/minute", granter_scopes=frozenset({"admin", "predict"})
    )
    assert issued.record.scopes == admin_only


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
