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
    AlreadyExists,
    ApiKeyRecord,
    AuditEvent,
    CredentialStore,
    RefreshTokenRecord,
    SpendOutcome,
    UserRecord,
)
from auth.store.redis import RedisCredentialStore
from auth.store.sqlite import SqliteCredentialStore

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC)


def user(name: str = "alice", created_at: datetime | None = None) -> UserRecord:
    return UserRecord(
        username=name,
        password_hash=f"$argon2id$v=19$m=8,t=1,p=1$fake-hash-of-{name}",
        scopes=frozenset({"predict"}),
        created_at=created_at or NOW.replace(microsecond=123_456),
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
    record = RefreshTokenRecord(
        digest=secrets.token_hex(32),
        family_id=family_id,
        username=username,
        scopes=frozenset({"predict"}),
        expires_at=NOW + timedelta(days=14),
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


async def test_delete_user(store: CredentialStore) -> None:
    await store.create_user(user())
    assert await store.delete_user("alice") is True
    assert await store.get_user("alice") is None
    assert await store.count_users() == 0
    assert await store.delete_user("alice") is False


async def test_delete_user_revokes_every_refresh_family(store: CredentialStore) -> None:
    await store.create_user(user())
    await store.create_user(user("bob"))
    first, second = refresh("fam-a"), refresh("fam-b")
    bobs = refresh("fam-bob", username="bob")
    for token in (first, second, bobs):
        await store.add_refresh_token(token)

    await store.delete_user("alice")

    assert (await store.spend_refresh_token(first.digest, NOW)).outcome is SpendOutcome.INVALID
    assert (await store.spend_refresh_token(second.digest, NOW)).outcome is SpendOutcome.INVALID
    assert (await store.spend_refresh_token(bobs.digest, NOW)).outcome is SpendOutcome.SPENT


async def test_delete_user_kills_their_access_tokens(store: CredentialStore) -> None:
    await store.create_user(user())
    issued_at = NOW + timedelta(seconds=1)
    assert await store.access_token_is_live("jti-1", "alice", issued_at) is True
    await store.delete_user("alice")
    assert await store.access_token_is_live("jti-1", "alice", issued_at) is False


async def test_a_recreated_user_does_not_inherit_old_tokens(store: CredentialStore) -> None:
    old_token_issued_at = NOW - timedelta(minutes=5)
    await store.create_user(user(created_at=NOW - timedelta(hours=1)))
    assert await store.access_token_is_live("old", "alice", old_token_issued_at) is True
    await store.delete_user("alice")
    await store.create_user(user(created_at=NOW))
    assert await store.access_token_is_live("old", "alice", old_token_issued_at) is False


async def test_a_token_stamped_in_the_users_creation_second_is_live(
    store: CredentialStore,
) -> None:
    created_at = NOW.replace(microsecond=900_000)
    await store.create_user(user(created_at=created_at))
    same_second = created_at.replace(microsecond=0)
    assert await store.access_token_is_live("j", "alice", same_second) is True
    previous_second = same_second - timedelta(seconds=1)
    assert await store.access_token_is_live("j", "alice", previous_second) is False


# access-token revocation


async def test_revoked_jti_is_not_live_and_others_are(store: CredentialStore) -> None:
    await store.create_user(user())
    issued_at = NOW + timedelta(seconds=1)
    await store.revoke_access_token("jti-revoked", NOW + timedelta(minutes=15))
    assert await store.access_token_is_live("jti-revoked", "alice", issued_at) is False
    assert await store.access_token_is_live("jti-other", "alice", issued_at) is True


async def test_unknown_user_is_not_live(store: CredentialStore) -> None:
    assert await store.access_token_is_live("jti", "nobody", NOW) is False


# API keys


async def test_key_round_trip_by_id_and_by_digest(store: CredentialStore) -> None:
    plain = key("k1")
    full = key(
        "k2",
        expires_at=NOW + timedelta(days=30),
        last_used_at=NOW - timedelta(minutes=3),
        created_by="alice",
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


async def test_touch_key(store: CredentialStore) -> None:
    await store.create_key(key())
    at = NOW.replace(microsecond=42)
    await store.touch_key("k1", at)
    touched = await store.get_key("k1")
    assert touched is not None
    assert touched.last_used_at == at
    await store.touch_key("ghost", at)
    assert await store.get_key("ghost") is None


# refresh-token families


async def test_spend_then_spend_again_revokes_the_family(store: CredentialStore) -> None:
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


async def test_unknown_refresh_token_is_invalid(store: CredentialStore) -> None:
    result = await store.spend_refresh_token("f" * 64, NOW)
    assert result.outcome is SpendOutcome.INVALID
    assert result.record is None


async def test_expired_refresh_token_is_invalid(store: CredentialStore) -> None:
    token = refresh(expires_at=NOW + timedelta(hours=1))
    await store.add_refresh_token(token)
    later = NOW + timedelta(hours=1, seconds=1)
    assert (await store.spend_refresh_token(token.digest, later)).outcome is SpendOutcome.INVALID


async def test_revoke_refresh_family(store: CredentialStore) -> None:
    mine, other = refresh("fam-1"), refresh("fam-2")
    await store.add_refresh_token(mine)
    await store.add_refresh_token(other)
    await store.revoke_refresh_family("fam-1")
    await store.revoke_refresh_family("never-existed")
    assert (await store.spend_refresh_token(mine.digest, NOW)).outcome is SpendOutcome.INVALID
    assert (await store.spend_refresh_token(other.digest, NOW)).outcome is SpendOutcome.SPENT


async def test_a_successor_added_after_revocation_stays_dead(store: CredentialStore) -> None:
    """A grant that spent a token just before the family was revoked cannot revive it."""
    first = refresh()
    await store.add_refresh_token(first)
    await store.spend_refresh_token(first.digest, NOW)
    await store.revoke_refresh_family(first.family_id)
    late = refresh()
    await store.add_refresh_token(late)
    assert (await store.spend_refresh_token(late.digest, NOW)).outcome is SpendOutcome.INVALID


async def test_two_concurrent_spends_of_one_token_spend_it_once(store: CredentialStore) -> None:
    token = refresh()
    await store.add_refresh_token(token)
    results = await asyncio.gather(
        store.spend_refresh_token(token.digest, NOW), store.spend_refresh_token(token.digest, NOW)
    )
    assert Counter(r.outcome for r in results) == {SpendOutcome.SPENT: 1, SpendOutcome.REUSED: 1}


async def test_many_concurrent_spends_spend_it_once(store: CredentialStore) -> None:
    token = refresh()
    await store.add_refresh_token(token)
    results = await asyncio.gather(
        *(store.spend_refresh_token(token.digest, NOW) for _ in range(20))
    )
    assert Counter(r.outcome for r in results)[SpendOutcome.SPENT] == 1


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
        "create_key", "get_key", "find_key_by_digest", "list_keys", "revoke_key", "rotate_key",
        "touch_key",
        "add_refresh_token", "spend_refresh_token", "revoke_refresh_family",
        "revoke_access_token", "access_token_is_live",
        "append_audit", "list_audit",
    }  # fmt: skip
    assert set(PROTOCOL_METHODS) == covered
