"""API keys through the service on each real store: issue, check, rotate, revoke, expire."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auth.context import AuthContext
from auth.errors import InvalidInput
from auth.store.base import UnknownUser
from auth.store.sqlite import SqliteCredentialStore
from tests.auth.conftest import SteppingClock, build_context

pytestmark = pytest.mark.anyio


async def test_create_returns_the_secret_once_and_stores_its_digest(context: AuthContext) -> None:
    issued = await context.keys.create(
        "ci pipeline", ["predict"], "100/minute", expires_in_days=30, created_by="admin"
    )
    assert re.fullmatch(r"hpk_[0-9A-Za-z]{36}", issued.secret)
    record = issued.record
    assert issued.secret.startswith(record.prefix)
    assert record.secret_digest != issued.secret
    assert (record.name, record.scopes, record.rate_limit, record.created_by) == (
        "ci pipeline",
        frozenset({"predict"}),
        "100/minute",
        "admin",
    )
    assert record.expires_at is not None
    assert (record.expires_at - record.created_at).days == 30
    assert await context.keys.get(record.id) == record
    assert await context.keys.list() == [record]


async def test_a_key_authenticates_as_itself(context: AuthContext) -> None:
    issued = await context.keys.create("k", ["predict", "admin"], "5/second")
    principal = await context.principals.from_api_key(issued.secret)
    assert principal is not None
    assert (principal.subject, principal.kind, principal.scopes, principal.rate_limit) == (
        issued.record.id,
        "key",
        frozenset({"predict", "admin"}),
        "5/second",
    )


async def test_a_key_belongs_to_the_user_that_made_it_and_dies_with_it(
    context: AuthContext,
) -> None:
    """Made by a user, or by a key of that user: deleting the user revokes both at once."""
    await context.users.create("standby-admin", "a long enough passphrase", ["admin"])
    await context.users.create("ops", "a long enough passphrase", ["admin", "predict"])
    ops = await context.users.get("ops")
    assert ops is not None
    by_user = await context.keys.create("k", ["admin"], "5/second", owner_id=ops.user_id)
    acting_key = await context.principals.from_api_key(by_user.secret)
    assert acting_key is not None
    assert acting_key.user_id == ops.user_id
    by_key = await context.keys.create("k2", ["predict"], "5/second", owner_id=acting_key.user_id)
    unowned = await context.keys.create("k3", ["predict"], "5/second")

    assert await context.users.delete("ops") is True

    for dead in (by_user, by_key):
        assert await context.principals.from_api_key(dead.secret) is None
    assert await context.principals.from_api_key(unowned.secret) is not None
    with pytest.raises(UnknownUser):
        await context.keys.create("late", ["predict"], "5/second", owner_id=ops.user_id)


async def test_revoke_works_at_once(context: AuthContext) -> None:
    issued = await context.keys.create("k", ["predict"], "100/minute")
    assert await context.principals.from_api_key(issued.secret) is not None
    assert await context.keys.revoke(issued.record.id) is True
    assert await context.principals.from_api_key(issued.secret) is None
    revoked = await context.keys.get(issued.record.id)
    assert revoked is not None
    assert revoked.revoked_at is not None
    assert await context.keys.revoke(issued.record.id) is False
    assert await context.keys.rotate(issued.record.id) is None


async def test_rotate_gives_a_new_secret_and_kills_the_old(context: AuthContext) -> None:
    issued = await context.keys.create("k", ["predict"], "7/minute")
    rotated = await context.keys.rotate(issued.record.id)
    assert rotated is not None
    assert rotated.secret != issued.secret
    assert (rotated.record.id, rotated.record.scopes, rotated.record.rate_limit) == (
        issued.record.id,
        issued.record.scopes,
        issued.record.rate_limit,
    )
    assert await context.principals.from_api_key(issued.secret) is None
    principal = await context.principals.from_api_key(rotated.secret)
    assert principal is not None
    assert principal.subject == issued.record.id
    assert await context.keys.rotate("unknown") is None


async def test_an_expired_key_is_refused(context: AuthContext, clock: SteppingClock) -> None:
    issued = await context.keys.create("k", ["predict"], "100/minute", expires_in_days=1)
    clock.advance(hours=23)
    assert await context.principals.from_api_key(issued.secret) is not None
    clock.advance(hours=2)
    assert await context.principals.from_api_key(issued.secret) is None


async def test_a_well_formed_key_from_another_server_is_refused(context: AuthContext) -> None:
    from auth.api_keys import generate_api_key

    assert await context.principals.from_api_key(generate_api_key()) is None


async def test_a_typo_is_refused_before_any_store_lookup(tmp_path: Path) -> None:
    """With the store closed, a lookup would raise; a bad checksum must not get that far."""
    context = build_context(SqliteCredentialStore(tmp_path / "auth.sqlite3"))
    issued = await context.keys.create("k", ["predict"], "100/minute")
    typo = issued.secret[:-1] + ("A" if issued.secret[-1] != "A" else "B")
    await context.close()
    assert await context.principals.from_api_key(typo) is None
    with pytest.raises(RuntimeError):
        await context.principals.from_api_key(issued.secret)


@pytest.mark.parametrize(
    ("name", "scopes", "rate_limit", "days"),
    [
        ("k", ["superuser"], "100/minute", None),
        ("k", ["predict"], "lots", None),
        ("k", ["predict"], "0/minute", None),
        ("k", ["predict"], "5/second;100/minute", None),
        ("", ["predict"], "100/minute", None),
        ("k", ["predict"], "100/minute", 0),
        ("k", ["predict"], "100/minute", 100_000),
    ],
)
async def test_invalid_key_requests_are_refused(
    context: AuthContext, name: str, scopes: list[str], rate_limit: str, days: int | None
) -> None:
    with pytest.raises(InvalidInput):
        await context.keys.create(name, scopes, rate_limit, expires_in_days=days)
    assert await context.keys.list() == []


async def test_the_pepper_rotates_without_killing_keys(tmp_path: Path) -> None:
    """Old keys verify under their tagged pepper and are re-tagged under the newest on use."""
    from auth.api_keys import ApiKeyDigester
    from auth.key_service import KeyService
    from auth.key_usage import KeyUsage
    from auth.store.sqlite import SqliteCredentialStore

    store = SqliteCredentialStore(tmp_path / "rotation.sqlite3")
    old_pepper, new_pepper = "o" * 8 + "old-pepper-1234567890", "n" * 8 + "new-pepper-1234567890"
    try:
        before = KeyService(store, ApiKeyDigester(old_pepper), usage=KeyUsage(store))
        legacy = await before.create("legacy", ["predict"], "10/minute")
        assert "$" not in legacy.record.secret_digest

        rotated = KeyService(
            store,
            ApiKeyDigester([("p2", new_pepper), ("", old_pepper)]),
            usage=KeyUsage(store),
        )
        fresh = await rotated.create("fresh", ["predict"], "10/minute")
        assert fresh.record.secret_digest.startswith("p2$")
        assert (await rotated.check(legacy.secret)) is not None  # verified under the old pepper
        stored = await store.get_key(legacy.record.id)
        assert stored is not None
        assert stored.secret_digest.startswith("p2$")  # ... and re-tagged on use

        after = KeyService(store, ApiKeyDigester([("p2", new_pepper)]), usage=KeyUsage(store))
        assert (await after.check(legacy.secret)) is not None  # the old pepper can go now
        assert (await after.check(fresh.secret)) is not None
    finally:
        await store.close()


async def test_update_renames_and_relimits_with_the_same_secret(context: AuthContext) -> None:
    issued = await context.keys.create("k", ["predict"], "100/minute")
    updated = await context.keys.update(issued.record.id, name="renamed", rate_limit="5/second")
    assert updated is not None
    assert (updated.name, updated.rate_limit) == ("renamed", "5/second")
    principal = await context.principals.from_api_key(issued.secret)
    assert principal is not None
    assert principal.rate_limit == "5/second"
    with pytest.raises(InvalidInput):
        await context.keys.update(issued.record.id, rate_limit="lots")
    assert await context.keys.update("unknown", name="x") is None


async def test_a_key_forged_from_a_real_keys_listed_prefix_does_not_authenticate(
    context: AuthContext,
) -> None:
    """The stored digest covers the whole key: the listed prefix plus any body with a valid
    checksum must not be taken for the real key (a digest over the prefix alone would be)."""
    from auth.api_keys import BODY_LENGTH, KEY_PREFIX, checksum, display_prefix

    issued = await context.keys.create("victim", ["predict"], "10/minute")
    listed = display_prefix(issued.secret)
    for filler in ("A", "z", "7"):
        body = (listed[len(KEY_PREFIX) :] + filler * BODY_LENGTH)[:BODY_LENGTH]
        forged = f"{KEY_PREFIX}{body}{checksum(body)}"
        assert display_prefix(forged) == listed
        assert forged != issued.secret
        assert await context.keys.check(forged) is None
    assert await context.keys.check(issued.secret) is not None
