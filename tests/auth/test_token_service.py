"""The OAuth2 flows end to end on each real store: grants, rotation, reuse, revocation."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from auth.context import AuthContext
from auth.errors import InvalidGrant, InvalidRequest, InvalidScope, UnsupportedGrantType
from auth.passwords import PasswordHasher
from auth.refresh import refresh_token_digest
from auth.store.base import CredentialStore, FamilyRecord, SpendOutcome, UserRecord
from auth.token_service import BAD_CREDENTIALS, REFRESH_REFUSED
from auth.validation import MAX_USERNAME_LENGTH
from tests.auth.conftest import SteppingClock, build_context

pytestmark = pytest.mark.anyio

PASSWORD = "s3cure enough passphrase"
REFUSED = f"^{REFRESH_REFUSED}$"
"""Every refused refresh says the same: nothing tells a thief which check stopped it."""


@pytest.fixture
async def alice(context: AuthContext) -> str:
    # Another admin, so deleting alice is not deleting the last admin (refused).
    await context.users.create("standby-admin", PASSWORD, {"admin"})
    await context.users.create("alice", PASSWORD, {"predict", "admin"})
    return "alice"


async def test_password_grant(context: AuthContext, alice: str) -> None:
    grant = await context.tokens.password_grant(alice, PASSWORD)
    assert grant.token_type == "bearer"
    assert grant.expires_in == 900
    assert grant.scope == "admin predict"
    claims = context.access_tokens.decode(grant.access_token)
    assert (claims.subject, claims.scopes) == ("alice", frozenset({"predict", "admin"}))
    principal = await context.principals.from_access_token(grant.access_token)
    assert principal is not None
    assert (principal.subject, principal.kind, principal.token_id) == (
        "alice",
        "user",
        claims.token_id,
    )


async def test_password_grant_narrows_to_the_requested_scope(
    context: AuthContext, alice: str
) -> None:
    grant = await context.tokens.password_grant(alice, PASSWORD, "predict")
    assert grant.scope == "predict"
    principal = await context.principals.from_access_token(grant.access_token)
    assert principal is not None
    assert principal.scopes == frozenset({"predict"})
    refreshed = await context.tokens.refresh_grant(grant.refresh_token)
    assert refreshed.scope == "predict"


async def test_password_grant_refuses_scope_beyond_the_users(context: AuthContext) -> None:
    await context.users.create("bob", PASSWORD, {"predict"})
    for scope in ("admin", "predict admin", "predict superuser"):
        with pytest.raises(InvalidScope, match=r"^the requested scope exceeds what this user may"):
            await context.tokens.password_grant("bob", PASSWORD, scope)


async def test_wrong_password_and_unknown_user_look_the_same(
    context: AuthContext, alice: str
) -> None:
    with pytest.raises(InvalidGrant) as wrong_password:
        await context.tokens.password_grant(alice, "not the password")
    with pytest.raises(InvalidGrant) as unknown_user:
        await context.tokens.password_grant("mallory", PASSWORD)
    assert wrong_password.value.description == unknown_user.value.description == BAD_CREDENTIALS
    assert wrong_password.value.error == unknown_user.value.error == "invalid_grant"


async def test_an_unknown_user_costs_as_much_as_a_wrong_password(store: CredentialStore) -> None:
    """Without the dummy verify an unknown name answers in microseconds, not milliseconds."""
    hasher = PasswordHasher(time_cost=2, memory_cost_kib=8 * 1024, parallelism=1)
    timed = build_context(store, hasher=hasher)
    await timed.users.create("alice", PASSWORD, {"predict"})

    async def median_seconds(username: str) -> float:
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            with pytest.raises(InvalidGrant):
                await timed.tokens.password_grant(username, "wrong guess")
            samples.append(time.perf_counter() - start)
        return sorted(samples)[2]

    known, unknown = await median_seconds("alice"), await median_seconds("nobody")
    assert 0.25 < unknown / known < 4.0


async def test_refresh_grant_rotates(context: AuthContext, alice: str) -> None:
    first = await context.tokens.password_grant(alice, PASSWORD)
    second = await context.tokens.refresh_grant(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert await context.principals.from_access_token(second.access_token) is not None
    third = await context.tokens.refresh_grant(second.refresh_token)
    assert third.scope == "admin predict"


async def family_of(context: AuthContext, access_token: str) -> FamilyRecord:
    """The family named by the token's ``sid`` (read unverified: the clock runs ahead)."""
    claims = jwt.decode(access_token, options={"verify_signature": False})
    family = (await context.store.access_token_facts("j", claims["sub"], claims["sid"])).family
    assert family is not None
    return family


async def test_refreshing_slides_no_further_than_the_logins_absolute_end(
    store: CredentialStore, clock: SteppingClock
) -> None:
    context = build_context(store, clock=clock, refresh_family_max_seconds=30 * 86_400)
    await context.users.create("alice", PASSWORD, {"predict"})
    login = clock()
    grant = await context.tokens.password_grant("alice", PASSWORD)
    ends_at = (await family_of(context, grant.access_token)).ends_at
    assert abs(ends_at - (login + timedelta(days=30))) < timedelta(seconds=1)
    clock.advance(days=13)
    grant = await context.tokens.refresh_grant(grant.refresh_token)
    clock.advance(days=13)
    # Day 26: the new refresh token lasts to the login's end, 4 days away, not 14.
    grant = await context.tokens.refresh_grant(grant.refresh_token)
    assert (await family_of(context, grant.access_token)).expires_at == ends_at
    clock.advance(days=4)
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.refresh_grant(grant.refresh_token)


async def test_a_logins_access_tokens_end_with_it(
    store: CredentialStore, clock: SteppingClock
) -> None:
    """A login of 10 minutes, an access token of 15: the token stops after 10."""
    context = build_context(store, clock=clock, refresh_family_max_seconds=600)
    await context.users.create("alice", PASSWORD, {"predict"})
    grant = await context.tokens.password_grant("alice", PASSWORD)
    assert await context.principals.from_access_token(grant.access_token) is not None
    clock.advance(minutes=9, seconds=59)
    assert await context.principals.from_access_token(grant.access_token) is not None
    clock.advance(seconds=2)
    assert await context.principals.from_access_token(grant.access_token) is None


async def test_a_refresh_grants_no_more_than_the_user_holds_now(
    context: AuthContext, alice: str
) -> None:
    grant = await context.tokens.password_grant(alice, PASSWORD)
    await context.users.set_scopes(alice, ["predict"])
    principal = await context.principals.from_access_token(grant.access_token)
    assert principal is not None
    assert principal.scopes == {"predict"}
    refreshed = await context.tokens.refresh_grant(grant.refresh_token)
    assert refreshed.scope == "predict"
    assert context.access_tokens.decode(refreshed.access_token).scopes == {"predict"}


async def test_a_password_change_ends_every_other_login(context: AuthContext, alice: str) -> None:
    mine = await context.tokens.password_grant(alice, PASSWORD)
    other = await context.tokens.password_grant(alice, PASSWORD)
    own_family = context.access_tokens.decode(mine.access_token).family_id
    changed = await context.users.set_password(
        alice, "a brand new passphrase", keep_family=own_family
    )
    assert changed is not None
    assert await context.principals.from_access_token(mine.access_token) is not None
    assert await context.principals.from_access_token(other.access_token) is None
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.refresh_grant(other.refresh_token)
    with pytest.raises(InvalidGrant):
        await context.tokens.password_grant(alice, PASSWORD)
    assert await context.tokens.password_grant(alice, "a brand new passphrase")


async def test_reusing_a_refresh_token_kills_the_family(context: AuthContext, alice: str) -> None:
    first = await context.tokens.password_grant(alice, PASSWORD)
    second = await context.tokens.refresh_grant(first.refresh_token)
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.refresh_grant(first.refresh_token)  # the thief's replay
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.refresh_grant(second.refresh_token)  # the victim's, now dead too


async def test_other_families_survive_a_reuse(context: AuthContext, alice: str) -> None:
    laptop = await context.tokens.password_grant(alice, PASSWORD)
    phone = await context.tokens.password_grant(alice, PASSWORD)
    await context.tokens.refresh_grant(laptop.refresh_token)
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.refresh_grant(laptop.refresh_token)
    assert (await context.tokens.refresh_grant(phone.refresh_token)).scope == "admin predict"


async def test_concurrent_refreshes_with_one_token_yield_one_grant(
    context: AuthContext, alice: str
) -> None:
    first = await context.tokens.password_grant(alice, PASSWORD)
    results = await asyncio.gather(
        context.tokens.refresh_grant(first.refresh_token),
        context.tokens.refresh_grant(first.refresh_token),
        return_exceptions=True,
    )
    assert sum(isinstance(r, InvalidGrant) for r in results) == 1


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 10_000])
async def test_refresh_grant_refuses_garbage(context: AuthContext, token: str) -> None:
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.grant("refresh_token", refresh_token=token)


async def test_grant_dispatch_errors(context: AuthContext) -> None:
    with pytest.raises(UnsupportedGrantType) as unsupported:
        await context.tokens.grant("client_credentials")
    assert unsupported.value.error == "unsupported_grant_type"
    for grant_type, form in (
        (None, {}),
        ("password", {"username": "alice"}),
        ("password", {"password": PASSWORD}),
        ("refresh_token", {}),
    ):
        with pytest.raises(InvalidRequest):
            await context.tokens.grant(grant_type, **form)


async def test_grant_dispatch_reaches_both_grants(context: AuthContext, alice: str) -> None:
    first = await context.tokens.grant("password", username=alice, password=PASSWORD)
    second = await context.tokens.grant("refresh_token", refresh_token=first.refresh_token)
    assert second.scope == first.scope


async def test_revoking_an_access_token(context: AuthContext, alice: str) -> None:
    revoked = await context.tokens.password_grant(alice, PASSWORD)
    kept = await context.tokens.password_grant(alice, PASSWORD)
    await context.tokens.revoke(revoked.access_token, "access_token")
    assert await context.principals.from_access_token(revoked.access_token) is None
    assert await context.principals.from_access_token(kept.access_token) is not None


@pytest.mark.parametrize("hint", [None, "refresh_token", "access_token", "nonsense"])
async def test_revoking_a_refresh_token_kills_its_family(
    context: AuthContext, alice: str, hint: str | None
) -> None:
    first = await context.tokens.password_grant(alice, PASSWORD)
    second = await context.tokens.refresh_grant(first.refresh_token)
    await context.tokens.revoke(second.refresh_token, hint)
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.refresh_grant(second.refresh_token)
    digest = refresh_token_digest(second.refresh_token)
    spent = await context.store.spend_refresh_token(digest, datetime.now(UTC))
    assert spent.outcome is SpendOutcome.INVALID


@pytest.mark.parametrize("hint", [None, "refresh_token"])
async def test_logging_out_ends_the_sessions_access_tokens_too(
    context: AuthContext, alice: str, hint: str | None
) -> None:
    """RFC 7009 §2.1: revoking a refresh token revokes the access tokens of its family."""
    laptop = await context.tokens.password_grant(alice, PASSWORD)
    refreshed = await context.tokens.refresh_grant(laptop.refresh_token)
    phone = await context.tokens.password_grant(alice, PASSWORD)
    await context.tokens.revoke(refreshed.refresh_token, hint)
    for ended in (laptop.access_token, refreshed.access_token):
        assert await context.principals.from_access_token(ended) is None
    assert await context.principals.from_access_token(phone.access_token) is not None


async def test_a_detected_reuse_ends_the_familys_access_tokens(
    context: AuthContext, alice: str
) -> None:
    first = await context.tokens.password_grant(alice, PASSWORD)
    thief = await context.tokens.refresh_grant(first.refresh_token)
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.refresh_grant(first.refresh_token)  # the victim's replay
    for ended in (first.access_token, thief.access_token):
        assert await context.principals.from_access_token(ended) is None


async def test_an_access_token_outside_any_family_is_refused(
    context: AuthContext, alice: str
) -> None:
    user = await context.users.get(alice)
    assert user is not None
    for claims in ({}, {"user_id": user.user_id}, {"family_id": "made-up"}):
        token = context.access_tokens.issue(alice, {"predict"}, **claims).token
        assert await context.principals.from_access_token(token) is None
    forged_family = context.access_tokens.issue(
        alice, {"predict"}, user_id=user.user_id, family_id="made-up"
    ).token
    assert await context.principals.from_access_token(forged_family) is None


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 10_000])
async def test_revoking_garbage_is_not_an_error(
    context: AuthContext, alice: str, token: str
) -> None:
    """RFC 7009: no error, and nothing real is revoked on the way."""
    grant = await context.tokens.password_grant(alice, PASSWORD)
    for hint in (None, "access_token", "refresh_token"):
        await context.tokens.revoke(token, hint)
    assert await context.principals.from_access_token(grant.access_token) is not None
    assert (await context.tokens.refresh_grant(grant.refresh_token)).scope == "admin predict"


async def test_deleting_a_user_kills_their_tokens(context: AuthContext, alice: str) -> None:
    grant = await context.tokens.password_grant(alice, PASSWORD)
    assert await context.users.delete(alice) is True
    assert await context.principals.from_access_token(grant.access_token) is None
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.refresh_grant(grant.refresh_token)


async def test_a_recreated_user_does_not_revive_old_tokens(
    context: AuthContext, alice: str
) -> None:
    """Deleted and re-created within the same second: the old tokens stay dead."""
    grant = await context.tokens.password_grant(alice, PASSWORD)
    await context.users.delete(alice)
    await context.users.create(alice, "another passphrase", {"predict", "admin"})
    assert await context.principals.from_access_token(grant.access_token) is None
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.refresh_grant(grant.refresh_token)
    fresh = await context.tokens.password_grant(alice, "another passphrase")
    assert await context.principals.from_access_token(fresh.access_token) is not None


def delete_right_after_reading(
    monkeypatch: pytest.MonkeyPatch, context: AuthContext, *, recreate: bool
) -> None:
    """The store's next user read is followed at once by the user's deletion.

    That is the admin's DELETE landing while a grant is in flight (between
    reading the user and storing the refresh token), deterministically.
    """
    read = context.store.get_user

    async def read_then_lose(username: str) -> UserRecord | None:
        monkeypatch.setattr(context.store, "get_user", read)
        user = await read(username)
        await context.users.delete(username)
        if recreate:
            await context.users.create(username, PASSWORD, {"predict", "admin"})
        return user

    monkeypatch.setattr(context.store, "get_user", read_then_lose)


@pytest.mark.parametrize("recreate", [False, True])
async def test_a_login_racing_the_users_deletion_gets_nothing(
    context: AuthContext, alice: str, monkeypatch: pytest.MonkeyPatch, recreate: bool
) -> None:
    delete_right_after_reading(monkeypatch, context, recreate=recreate)
    with pytest.raises(InvalidGrant) as refused:
        await context.tokens.password_grant(alice, PASSWORD)
    assert refused.value.description == BAD_CREDENTIALS


@pytest.mark.parametrize("recreate", [False, True])
async def test_a_refresh_racing_the_users_deletion_gets_nothing(
    context: AuthContext, alice: str, monkeypatch: pytest.MonkeyPatch, recreate: bool
) -> None:
    grant = await context.tokens.password_grant(alice, PASSWORD)
    delete_right_after_reading(monkeypatch, context, recreate=recreate)
    with pytest.raises(InvalidGrant, match=REFUSED):
        await context.tokens.refresh_grant(grant.refresh_token)


async def test_an_absurd_username_is_just_bad_credentials(context: AuthContext) -> None:
    with pytest.raises(InvalidGrant) as refused:
        await context.tokens.password_grant("a" * 10_000, PASSWORD)
    assert refused.value.description == BAD_CREDENTIALS


async def test_a_revocation_outlives_the_decode_leeway(
    redis_url: str, hasher: PasswordHasher
) -> None:
    # decode() accepts a token until exp + leeway, so the revocation must last that long too.
    from redis.asyncio import Redis

    from auth.store.redis import RedisCredentialStore
    from auth.tokens import DEFAULT_LEEWAY_SECONDS

    client = Redis.from_url(redis_url)
    try:
        context = build_context(RedisCredentialStore(client), hasher=hasher)
        await context.users.create("alice", PASSWORD, {"predict"})
        grant = await context.tokens.password_grant("alice", PASSWORD)
        claims = context.access_tokens.decode(grant.access_token)
        await context.tokens.revoke(grant.access_token)
        ttl = await client.pttl(f"hapi:revoked-jti:{claims.token_id}")
        remaining = claims.expires_at.timestamp() - time.time()
        assert ttl / 1000 >= remaining + DEFAULT_LEEWAY_SECONDS - 1
    finally:
        await client.aclose()


async def test_a_detected_reuse_is_logged_with_the_user_and_login(
    context: AuthContext, alice: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The replay of a spent refresh token is an attack signal: logged once, a normal
    refresh is not."""
    first = await context.tokens.password_grant(alice, PASSWORD)
    with caplog.at_level(logging.WARNING, logger="auth.token_service"):
        await context.tokens.refresh_grant(first.refresh_token)
        assert not caplog.records
        with pytest.raises(InvalidGrant, match=REFUSED):
            await context.tokens.refresh_grant(first.refresh_token)
    [record] = caplog.records
    assert record.getMessage() == "refresh token reused; family revoked"
    family_id = context.access_tokens.decode(first.access_token).family_id
    assert record.fields == {"username": alice, "family_id": family_id}  # type: ignore[attr-defined]


async def test_the_longest_username_logs_in(context: AuthContext) -> None:
    longest = "a" * MAX_USERNAME_LENGTH
    await context.users.create(longest, PASSWORD, {"predict"})
    assert (await context.tokens.password_grant(longest, PASSWORD)).scope == "predict"
