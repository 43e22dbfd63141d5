"""Users through the service: validation, hashing, listing, the audit trail."""

from __future__ import annotations

import pytest

from auth.context import AuthContext
from auth.errors import InvalidGrant, InvalidInput, ScopeCeiling, WrongPassword
from auth.store.base import AlreadyExists, LastAdmin

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


async def test_changing_ones_own_password_checks_it_and_keeps_only_this_login(
    context: AuthContext,
) -> None:
    await context.users.create("alice", "a long enough passphrase", ["predict"])
    mine = await context.tokens.password_grant("alice", "a long enough passphrase")
    other = await context.tokens.password_grant("alice", "a long enough passphrase")
    sid = context.access_tokens.decode(mine.access_token).family_id
    with pytest.raises(WrongPassword):
        await context.users.change_own_password(
            "alice", "not the passphrase", "another long passphrase", keep_family=sid
        )
    with pytest.raises(WrongPassword):
        await context.users.change_own_password(
            "nobody", "a long enough passphrase", "another long passphrase", keep_family=sid
        )
    with pytest.raises(InvalidInput, match="at least 15 characters"):
        await context.users.change_own_password(
            "alice", "a long enough passphrase", "short", keep_family=sid
        )
    assert await context.principals.from_access_token(other.access_token) is not None

    await context.users.change_own_password(
        "ALICE", "a long enough passphrase", "another long passphrase", keep_family=sid
    )
    assert await context.principals.from_access_token(mine.access_token) is not None
    assert await context.principals.from_access_token(other.access_token) is None
    await context.tokens.refresh_grant(mine.refresh_token)
    with pytest.raises(InvalidGrant):
        await context.tokens.refresh_grant(other.refresh_token)
    with pytest.raises(InvalidGrant):
        await context.tokens.password_grant("alice", "a long enough passphrase")
    await context.tokens.password_grant("alice", "another long passphrase")


async def test_the_last_admin_is_kept_through_the_service(context: AuthContext) -> None:
    await context.users.create("root", "a long enough passphrase", ["admin", "predict"])
    with pytest.raises(LastAdmin):
        await context.users.delete("root")
    with pytest.raises(LastAdmin):
        await context.users.set_scopes("root", ["predict"])
    await context.users.create("second", "a long enough passphrase", ["admin"])
    assert await context.users.delete("root") is True
