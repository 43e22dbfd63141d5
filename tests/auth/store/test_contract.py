"""The storage contract: every adapter behaves the same on every Protocol method."""

from __future__ import annotations

import asyncio
import inspect
import secrets
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from auth.store.base import (
    AccessTokenFacts,
    AlreadyExists,
    ApiKeyRecord,
    AuditEvent,
    CredentialStore,
    FamilyRecord,
    LastAdmin,
    RefreshTokenRecord,
    SpendOutcome,
    UnknownUser,
    UserRecord,
)
from auth.store.redis import RedisCredentialStore
from auth.store.sqlite import SqliteCredentialStore

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC)


def user(name: str = "alice", user_id: str | None = None) -> UserRecord:
    return UserRecord(
        username=name,
        password_hash=f"$argon2id$v=19$m=8,t=1,p=1$fake-hash-of-{name}",
        scopes=frozenset({"predict"}),
        created_at=NOW.replace(microsecond=123_456),
        user_id=user_id or f"id-of-{name}",
    )


def key(key_id: str = "k1", **changes: Any) -> ApiKeyRecord:
    record = ApiKeyRecord(
        id=key_id,
        name=f"key {key_id}",
        prefix="hpk_AbC1",
        secret_digest=secrets.token_hex(32),
        scopes=frozenset({"predict", "admin"}),
        rate_limit="100/minute",
        created_at=NOW.replace(microsecond=654_321),
    )
    return replace(record, **changes)


def refresh(
    family_id: str = "fam-1", username: str = "alice", **changes: Any
) -> RefreshTokenRecord:
    """A token of ``username``, bound to the instance ``user(username)`` creates."""
    record = RefreshTokenRecord(
        digest=secrets.token_hex(32),
        family_id=family_id,
        user_id=f"id-of-{username}",
        username=username,
        scopes=frozenset({"predict"}),
        expires_at=NOW + timedelta(days=14),
        family_ends_at=NOW + timedelta(days=30),
    )
    return replace(record, **changes)


async def test_ping(store: CredentialStore) -> None:
    assert await store.ping() is True


# users


async def test_user_round_trip_keeps_every_field(store: CredentialStore) -> None:
    alice = user()
    await store.create_user(alice)
    assert await store.get_user("alice") == alice
    assert await store.get_user("bob") is None


async def test_create_user_refuses_a_taken_name(store: CredentialStore) -> None:
    await store.create_user(user())
    with pytest.raises(AlreadyExists):
        await store.create_user(user())
    assert await store.count_users() == 1


async def test_list_and_count_users(store: CredentialStore) -> None:
    assert await store.list_users() == []
    assert await store.count_users() == 0
    for name in ("carol", "alice", "bob"):
        await store.create_user(user(name))
    assert [u.username for u in await store.list_users()] == ["alice", "bob", "carol"]
    assert await store.count_users() == 3


async def test_set_user_scopes(store: CredentialStore) -> None:
    await store.create_user(user())
    changed = await store.set_user_scopes("alice", frozenset({"admin", "predict"}))
    assert changed == replace(user(), scopes=frozenset({"admin", "predict"}))
    assert await store.get_user("alice") == changed
    assert await store.set_user_scopes("nobody", frozenset({"predict"})) is None


async def test_set_user_password_ends_every_login_but_the_kept_one(
    store: CredentialStore,
) -> None:
    await store.create_user(user())
    await store.create_user(user("bob"))
    kept, ended, bobs = refresh("kept"), refresh("ended"), refresh("bobs", username="bob")
    for token in (kept, ended, bobs):
        await store.add_refresh_token(token)
    changed = await store.set_user_password("alice", "new-hash", keep_family="kept")
    assert changed == replace(user(), password_hash="new-hash")
    assert await store.get_user("alice") == changed
    outcomes = [
        (await store.spend_refresh_token(t.digest, NOW)).outcome for t in (kept, ended, bobs)
    ]
    assert outcomes == [SpendOutcome.SPENT, SpendOutcome.INVALID, SpendOutcome.SPENT]
    assert await store.set_user_password("nobody", "h") is None


async def test_set_user_password_without_a_kept_login_ends_them_all(
    store: CredentialStore,
) -> None:
    await store.create_user(user())
    token = refresh("fam")
    await store.add_refresh_token(token)
    await store.set_user_password("alice", "new-hash")
    assert (await store.spend_refresh_token(token.digest, NOW)).outcome is SpendOutcome.INVALID


async def test_delete_user(store: CredentialStore) -> None:
    await store.create_user(user())
    assert await store.delete_user("alice", NOW) is True
    assert await store.get_user("alice") is None
    assert await store.count_users() == 0
    assert await store.delete_user("alice", NOW) is False


def admin(name: str) -> UserRecord:
    return replace(user(name), scopes=frozenset({"admin", "predict"}))


async def test_the_last_admin_cannot_be_deleted(store: CredentialStore) -> None:
    await store.create_user(admin("root"))
    await store.create_user(user("alice"))
    with pytest.raises(LastAdmin):
        await store.delete_user("root", NOW)
    assert await store.get_user("root") is not None
    assert await store.delete_user("alice", NOW) is True
    await store.create_user(admin("second"))
    assert await store.delete_user("root", NOW) is True
    with pytest.raises(LastAdmin):
        await store.delete_user("second", NOW)


async def test_the_last_admin_cannot_lose_the_admin_scope(store: CredentialStore) -> None:
    await store.create_user(admin("root"))
    with pytest.raises(LastAdmin):
        await store.set_user_scopes("root", frozenset({"predict"}))
    assert (await store.get_user("root")).scopes == {"admin", "predict"}  # type: ignore[union-attr]
    assert await store.set_user_scopes("root", frozenset({"admin"})) is not None
    await store.create_user(admin("second"))
    changed = await store.set_user_scopes("root", frozenset({"predict"}))
    assert changed is not None
    assert changed.scopes == {"predict"}


async def test_two_admins_deleting_each_other_at_once_leave_one(store: CredentialStore) -> None:
    await store.create_user(admin("one"))
    await store.create_user(admin("two"))
    results = await asyncio.gather(
        store.delete_user("one", NOW), store.delete_user("two", NOW), return_exceptions=True
    )
    assert sorted(type(result).__name__ for result in results) == ["LastAdmin", "bool"]
    assert await store.count_users() == 1


async def test_delete_user_revokes_every_refresh_family(store: CredentialStore) -> None:
    await store.create_user(user())
    await store.create_user(user("bob"))
    first, second = refresh("fam-a"), refresh("fam-b")
    bobs = refresh("fam-bob", username="bob")
    for token in (first, second, bobs):
        await store.add_refresh_token(token)

    await store.delete_user("alice", NOW)

    assert (await store.spend_refresh_token(first.digest, NOW)).outcome is SpendOutcome.INVALID
    assert (await store.spend_refresh_token(second.digest, NOW)).outcome is SpendOutcome.INVALID
    assert (await store.spend_refresh_token(bobs.digest, NOW)).outcome is SpendOutcome.SPENT


async def test_access_token_facts_name_the_user_and_the_jti(store: CredentialStore) -> None:
    alice = user()
    await store.create_user(alice)
    await store.revoke_access_token("jti-revoked", NOW + timedelta(minutes=15))
    assert await store.access_token_facts("jti-1", "alice", "fam") == AccessTokenFacts(
        False, alice, None
    )
    assert (await store.access_token_facts("jti-revoked", "alice", "fam")).revoked is True
    assert await store.access_token_facts("jti-1", "nobody", "fam") == AccessTokenFacts(
        False, None, None
    )


async def test_delete_user_leaves_no_user_for_their_tokens(store: CredentialStore) -> None:
    await store.create_user(user())
    await store.delete_user("alice", NOW)
    assert (await store.access_token_facts("jti-1", "alice", "fam")).user is None


async def test_a_recreated_user_is_another_instance(store: CredentialStore) -> None:
    """Same name, same second: the id alone tells the two apart."""
    await store.create_user(user(user_id="first"))
    await store.delete_user("alice", NOW)
    await store.create_user(user(user_id="second"))
    facts = await store.access_token_facts("jti", "alice", "fam")
    assert facts.user is not None
    assert facts.user.user_id == "second"


async def test_create_user_refuses_a_taken_user_id(store: CredentialStore) -> None:
    await store.create_user(user("alice", user_id="same"))
    with pytest.raises(AlreadyExists):
        await store.create_user(user("bob", user_id="same"))


# refresh families bound to a user instance


async def test_a_family_for_a_missing_user_is_refused_by_the_write(
    store: CredentialStore,
) -> None:
    with pytest.raises(UnknownUser):
        await store.add_refresh_token(refresh(username="ghost"))
    await store.create_user(user(user_id="first"))
    await store.delete_user("alice", NOW)
    await store.create_user(user(user_id="second"))
    # A login that read the first alice must not start a family for the second.
    with pytest.raises(UnknownUser):
        await store.add_refresh_token(refresh(user_id="first"))


async def test_a_successor_for_a_deleted_user_is_refused(store: CredentialStore) -> None:
    await store.create_user(user())
    first = refresh()
    await store.add_refresh_token(first)
    assert (await store.spend_refresh_token(first.digest, NOW)).outcome is SpendOutcome.SPENT
    await store.delete_user("alice", NOW)
    with pytest.raises(UnknownUser):
        await store.add_refresh_token(refresh())


async def test_a_family_cannot_change_hands(store: CredentialStore) -> None:
    await store.create_user(user())
    await store.create_user(user("bob"))
    await store.add_refresh_token(refresh("fam-1"))
    with pytest.raises(AlreadyExists):
        await store.add_refresh_token(refresh("fam-1", username="bob"))


async def test_spending_checks_the_user_instance(store: CredentialStore) -> None:
    """A family the deletion missed (written by an older version) still dies with its user."""
    await store.create_user(user(user_id="first"))
    token = refresh(user_id="first")
    await store.add_refresh_token(token)
    await store.delete_user("alice", NOW)
    await store.create_user(user(user_id="second"))
    assert (await store.spend_refresh_token(token.digest, NOW)).outcome is SpendOutcome.INVALID


# API keys


async def test_key_round_trip_by_id_and_by_digest(store: CredentialStore) -> None:
    await store.create_user(user())
    plain = key("k1")
    full = key(
        "k2",
        expires_at=NOW + timedelta(days=30),
        last_used_at=NOW - timedelta(minutes=3),
        created_by="user:alice",
        owner_id="id-of-alice",
    )
    await store.create_key(plain)
    await store.create_key(full)
    assert await store.get_key("k1") == plain
    assert await store.get_key("k2") == full
    assert await store.find_key_by_digest(full.secret_digest) == full
    assert await store.get_key("nope") is None
    assert await store.find_key_by_digest("0" * 64) is None
    assert await store.list_keys() == [plain, full]


async def test_create_key_refuses_a_taken_id_or_digest(store: CredentialStore) -> None:
    first = key("k1")
    await store.create_key(first)
    with pytest.raises(AlreadyExists):
        await store.create_key(key("k1"))
    with pytest.raises(AlreadyExists):
        await store.create_key(key("k2", secret_digest=first.secret_digest))
    assert await store.list_keys() == [first]


async def test_revoke_key_at_once(store: CredentialStore) -> None:
    record = key()
    await store.create_key(record)
    at = NOW.replace(microsecond=5)
    assert await store.revoke_key("k1", at) is True
    found = await store.find_key_by_digest(record.secret_digest)
    assert found is not None
    assert found.revoked_at == at
    assert await store.revoke_key("k1", NOW) is False
    assert await store.revoke_key("unknown", NOW) is False


async def test_rotate_key_swaps_the_secret_at_once(store: CredentialStore) -> None:
    old = key()
    await store.create_key(old)
    new_digest = secrets.token_hex(32)
    rotated = await store.rotate_key("k1", "hpk_New1", new_digest)
    assert rotated is not None
    assert (rotated.id, rotated.scopes, rotated.rate_limit, rotated.name) == (
        old.id,
        old.scopes,
        old.rate_limit,
        old.name,
    )
    assert (rotated.prefix, rotated.secret_digest) == ("hpk_New1", new_digest)
    assert await store.find_key_by_digest(old.secret_digest) is None
    assert await store.find_key_by_digest(new_digest) == rotated
    assert await store.get_key("k1") == rotated


async def test_rotate_refuses_unknown_and_revoked_keys(store: CredentialStore) -> None:
    assert await store.rotate_key("unknown", "hpk_x", secrets.token_hex(32)) is None
    record = key()
    await store.create_key(record)
    await store.revoke_key("k1", NOW)
    assert await store.rotate_key("k1", "hpk_x", secrets.token_hex(32)) is None
    still = await store.get_key("k1")
    assert still is not None
    assert still.secret_digest == record.secret_digest


async def test_a_key_for_a_missing_owner_is_refused_by_the_write(
    store: CredentialStore,
) -> None:
    with pytest.raises(UnknownUser):
        await store.create_key(key("k1", owner_id="id-of-ghost"))
    assert await store.list_keys() == []


async def test_deleting_a_user_revokes_the_keys_it_owns(store: CredentialStore) -> None:
    await store.create_user(user())
    await store.create_user(user("bob"))
    owned, already = key("owned", owner_id="id-of-alice"), key("already", owner_id="id-of-alice")
    bobs, nobodys = key("bobs", owner_id="id-of-bob"), key("nobodys")
    for record in (owned, already, bobs, nobodys):
        await store.create_key(record)
    earlier = NOW - timedelta(days=1)
    await store.revoke_key("already", earlier)
    assert await store.get_key("owned") == owned
    at = NOW.replace(microsecond=77)

    await store.delete_user("alice", at)

    revoked = {k.id: k.revoked_at for k in await store.list_keys()}
    assert revoked == {"owned": at, "already": earlier, "bobs": None, "nobodys": None}
    found = await store.find_key_by_digest(owned.secret_digest)
    assert found is not None
    assert found.revoked_at == at


async def test_a_recreated_user_owns_none_of_the_old_keys(store: CredentialStore) -> None:
    await store.create_user(user(user_id="first"))
    await store.create_key(key("old", owner_id="first"))
    await store.delete_user("alice", NOW)
    await store.create_user(user(user_id="second"))
    await store.create_key(key("new", owner_id="second"))
    await store.delete_user("alice", NOW)
    old = await store.get_key("old")
    assert old is not None
    assert old.revoked_at == NOW
    with pytest.raises(UnknownUser):
        await store.create_key(key("late", owner_id="first"))


async def test_update_key_changes_name_and_limit_not_the_secret(store: CredentialStore) -> None:
    original = key("k1")
    await store.create_key(original)
    renamed = await store.update_key("k1", name="renamed")
    assert renamed == replace(original, name="renamed")
    relimited = await store.update_key("k1", rate_limit="5/second")
    assert relimited == replace(original, name="renamed", rate_limit="5/second")
    assert await store.find_key_by_digest(original.secret_digest) == relimited
    assert await store.update_key("k1") == relimited
    assert await store.update_key("ghost", name="x") is None


async def test_touch_keys_records_the_latest_use_of_each(store: CredentialStore) -> None:
    for key_id in ("k1", "k2"):
        await store.create_key(key(key_id))
    early, late = NOW.replace(microsecond=42), NOW.replace(microsecond=43)
    await store.touch_keys({"k1": late, "k2": early, "ghost": late})
    # Another worker flushing an older use afterwards changes nothing.
    await store.touch_keys({"k1": early})
    await store.touch_keys({})
    used = {k.id: k.last_used_at for k in await store.list_keys()}
    assert used == {"k1": late, "k2": early}
    assert await store.get_key("ghost") is None


# refresh-token families


@pytest.fixture
async def alice(store: CredentialStore) -> UserRecord:
    """Refresh tokens belong to a user instance that exists."""
    record = user()
    await store.create_user(record)
    return record


async def test_spend_then_spend_again_revokes_the_family(
    store: CredentialStore, alice: UserRecord
) -> None:
    first = refresh()
    await store.add_refresh_token(first)

    spent = await store.spend_refresh_token(first.digest, NOW)
    assert spent.outcome is SpendOutcome.SPENT
    assert spent.record == first

    successor = refresh()
    await store.add_refresh_token(successor)
    reused = await store.spend_refresh_token(first.digest, NOW)
    assert reused.outcome is SpendOutcome.REUSED
    # The family is dead: the successor the thief (or the victim) holds is worthless.
    assert (await store.spend_refresh_token(successor.digest, NOW)).outcome is SpendOutcome.INVALID


async def test_unknown_refresh_token_is_invalid(store: CredentialStore, alice: UserRecord) -> None:
    result = await store.spend_refresh_token("f" * 64, NOW)
    assert result.outcome is SpendOutcome.INVALID
    assert result.record is None


async def test_expired_refresh_token_is_invalid(store: CredentialStore, alice: UserRecord) -> None:
    token = refresh(expires_at=NOW + timedelta(hours=1))
    await store.add_refresh_token(token)
    later = NOW + timedelta(hours=1, seconds=1)
    assert (await store.spend_refresh_token(token.digest, later)).outcome is SpendOutcome.INVALID


async def test_revoke_refresh_family(store: CredentialStore, alice: UserRecord) -> None:
    mine, other = refresh("fam-1"), refresh("fam-2")
    await store.add_refresh_token(mine)
    await store.add_refresh_token(other)
    await store.revoke_refresh_family("fam-1")
    await store.revoke_refresh_family("never-existed")
    assert (await store.spend_refresh_token(mine.digest, NOW)).outcome is SpendOutcome.INVALID
    assert (await store.spend_refresh_token(other.digest, NOW)).outcome is SpendOutcome.SPENT


async def test_a_successor_added_after_revocation_stays_dead(
    store: CredentialStore, alice: UserRecord
) -> None:
    """A grant that spent a token just before the family was revoked cannot revive it."""
    first = refresh()
    await store.add_refresh_token(first)
    await store.spend_refresh_token(first.digest, NOW)
    await store.revoke_refresh_family(first.family_id)
    late = refresh()
    await store.add_refresh_token(late)
    assert (await store.spend_refresh_token(late.digest, NOW)).outcome is SpendOutcome.INVALID


async def test_two_concurrent_spends_of_one_token_spend_it_once(
    store: CredentialStore, alice: UserRecord
) -> None:
    token = refresh()
    await store.add_refresh_token(token)
    results = await asyncio.gather(
        store.spend_refresh_token(token.digest, NOW), store.spend_refresh_token(token.digest, NOW)
    )
    assert Counter(r.outcome for r in results) == {SpendOutcome.SPENT: 1, SpendOutcome.REUSED: 1}


async def test_many_concurrent_spends_spend_it_once(
    store: CredentialStore, alice: UserRecord
) -> None:
    token = refresh()
    await store.add_refresh_token(token)
    results = await asyncio.gather(
        *(store.spend_refresh_token(token.digest, NOW) for _ in range(20))
    )
    assert Counter(r.outcome for r in results)[SpendOutcome.SPENT] == 1


async def family_of(store: CredentialStore, token: RefreshTokenRecord) -> FamilyRecord | None:
    return (await store.access_token_facts("jti", token.username, token.family_id)).family


async def test_a_family_is_known_with_its_owner_and_expiry(
    store: CredentialStore, alice: UserRecord
) -> None:
    first = refresh(expires_at=NOW + timedelta(days=1))
    await store.add_refresh_token(first)
    assert await family_of(store, first) == FamilyRecord(
        "fam-1", alice.user_id, False, first.expires_at, first.family_ends_at
    )
    later = refresh(expires_at=NOW + timedelta(days=2))
    await store.add_refresh_token(later)
    family = await family_of(store, first)
    assert family is not None
    assert family.expires_at == later.expires_at
    assert family.is_live(NOW)
    assert not family.is_live(later.expires_at)


async def test_a_family_ends_at_its_absolute_end(store: CredentialStore, alice: UserRecord) -> None:
    """The end is fixed by the first token; no later token moves it, and the store enforces it."""
    ends_at = NOW + timedelta(days=30)
    first = refresh(family_ends_at=ends_at)
    await store.add_refresh_token(first)
    late = refresh(expires_at=NOW + timedelta(days=40), family_ends_at=NOW + timedelta(days=90))
    await store.add_refresh_token(late)
    family = await family_of(store, late)
    assert family is not None
    assert family.ends_at == ends_at
    assert family.is_live(ends_at - timedelta(seconds=1))
    assert not family.is_live(ends_at)
    spent = await store.spend_refresh_token(late.digest, ends_at - timedelta(seconds=1))
    assert spent.record is not None
    assert spent.record.family_ends_at == ends_at
    after_the_end = await store.spend_refresh_token(first.digest, ends_at)
    assert after_the_end.outcome is SpendOutcome.INVALID


@pytest.mark.parametrize("ending", ["revoke", "reuse", "delete_user"])
async def test_every_ending_of_a_family_shows_in_its_facts(
    store: CredentialStore, alice: UserRecord, ending: str
) -> None:
    """Access tokens of the family are refused on these facts (RFC 7009 §2.1)."""
    token, other = refresh("fam-1"), refresh("fam-2")
    await store.add_refresh_token(token)
    await store.add_refresh_token(other)
    if ending == "revoke":
        await store.revoke_refresh_family("fam-1")
    elif ending == "reuse":
        await store.spend_refresh_token(token.digest, NOW)
        await store.spend_refresh_token(token.digest, NOW)
    else:
        await store.delete_user("alice", NOW)
    family = await family_of(store, token)
    assert family is None or family.revoked
    if ending != "delete_user":
        survivor = await family_of(store, other)
        assert survivor is not None
        assert not survivor.revoked


# audit


async def test_audit_is_newest_first_and_limited(store: CredentialStore) -> None:
    events = [
        AuditEvent(NOW + timedelta(seconds=i), "alice", f"action-{i}", f"target-{i}", ip)
        for i, ip in enumerate(["10.0.0.1", None, "2001:db8::1"])
    ]
    for event in events:
        await store.append_audit(event)
    assert await store.list_audit(10) == events[::-1]
    assert await store.list_audit(2) == events[:0:-1]
    assert await store.list_audit(0) == []


# shape


PROTOCOL_METHODS = sorted(
    name
    for name, member in vars(CredentialStore).items()
    if inspect.isfunction(member) and not name.startswith("_")
)


@pytest.mark.parametrize("adapter", [SqliteCredentialStore, RedisCredentialStore])
@pytest.mark.parametrize("method", PROTOCOL_METHODS)
def test_adapters_have_every_protocol_method_with_its_parameters(
    adapter: type, method: str
) -> None:
    implemented = getattr(adapter, method)
    assert inspect.iscoroutinefunction(implemented)
    expected = list(inspect.signature(getattr(CredentialStore, method)).parameters)
    assert list(inspect.signature(implemented).parameters) == expected


def test_this_suite_covers_every_protocol_method() -> None:
    """A method added to the Protocol fails here until tests for it are written above."""
    covered = {
        "ping", "close",
        "create_user", "get_user", "list_users", "count_users", "delete_user",
        "set_user_scopes", "set_user_password", "update_key",
        "create_key", "get_key", "find_key_by_digest", "list_keys", "revoke_key", "rotate_key",
        "touch_keys",
        "add_refresh_token", "spend_refresh_token", "revoke_refresh_family",
        "revoke_access_token", "access_token_facts",
        "follow_changes",  # in test_changes.py
        "append_audit", "list_audit",
    }  # fmt: skip
    assert set(PROTOCOL_METHODS) == covered
