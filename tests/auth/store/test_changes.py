"""The change contract: every write that ends or alters a credential is announced, on both
adapters, to this process before it returns and to every other process soon after."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from datetime import timedelta

import pytest

from auth.store.base import CredentialStore
from tests.auth.conftest import StoreOpener
from tests.auth.store.recorder import Recorder, eventually, following
from tests.auth.store.test_contract import NOW, key, refresh, user

pytestmark = pytest.mark.anyio


async def heard(recorder: Recorder, write: Awaitable[object]) -> set[str]:
    """What this process's listener was told by the time ``write`` returned.

    With Redis it may also hear an earlier write's message arrive by pub/sub.
    """
    recorder.names.clear()
    await write
    return set(recorder.names)


async def settled(recorder: Recorder) -> None:
    """Until every change made so far has reached the listener (a confirmation after now)."""
    now = time.monotonic()
    await eventually(lambda: (recorder.confirmed or 0) > now, timeout=3)


async def test_each_change_is_told_here_before_the_write_returns(store: CredentialStore) -> None:
    await store.create_user(user())
    owned, other = key("k1", owner_id="id-of-alice"), key("k2")
    for record in (owned, other):
        await store.create_key(record)
    reused = refresh("fam-2")
    for token in (refresh("fam-1", expires_at=NOW + timedelta(days=1)), reused):
        await store.add_refresh_token(token)
    await store.spend_refresh_token(reused.digest, NOW)
    async with following(store) as recorder:
        # A family that now lasts longer is a changed family.
        assert "family:fam-1" in await heard(recorder, store.add_refresh_token(refresh("fam-1")))
        revoke_jti = store.revoke_access_token("j-1", NOW + timedelta(minutes=5))
        assert "jti:j-1" in await heard(recorder, revoke_jti)
        revoke_family = store.revoke_refresh_family("fam-1")
        assert "family:fam-1" in await heard(recorder, revoke_family)
        reuse = store.spend_refresh_token(reused.digest, NOW)
        assert "family:fam-2" in await heard(recorder, reuse)
        rotate = store.rotate_key("k2", "hpk_New1", "f" * 64)
        assert f"key:{other.secret_digest}" in await heard(recorder, rotate)
        assert f"key:{'f' * 64}" in await heard(recorder, store.revoke_key("k2", NOW))
        set_scopes = store.set_user_scopes("alice", frozenset({"predict"}))
        assert "user:alice" in await heard(recorder, set_scopes)
        relimit = store.update_key("k1", rate_limit="1/second")
        assert f"key:{owned.secret_digest}" in await heard(recorder, relimit)
        await store.add_refresh_token(refresh("fam-4"))
        set_password = store.set_user_password("alice", "new-hash")
        assert await heard(recorder, set_password) >= {"user:alice", "family:fam-4"}
        await store.add_refresh_token(refresh("fam-3"))
        assert await heard(recorder, store.delete_user("alice", NOW)) >= {
            "user:alice",
            "family:fam-1",
            "family:fam-2",
            "family:fam-3",
            f"key:{owned.secret_digest}",
        }


async def test_what_changes_no_credential_is_not_announced(store: CredentialStore) -> None:
    """Creating (nothing cached can be stale) and recording use (every few seconds per
    key) must not churn every process's cache."""
    async with following(store) as recorder:
        await store.create_user(user())
        await store.create_key(key("k1", owner_id="id-of-alice"))
        await store.add_refresh_token(refresh("fam-1"))
        await store.touch_keys({"k1": NOW})
        await store.spend_refresh_token(refresh("fam-1").digest, NOW)
        await settled(recorder)
        assert recorder.names == []


async def test_a_change_made_elsewhere_reaches_the_follower(open_store: StoreOpener) -> None:
    """Named (Redis pub/sub) or as a resync (SQLite sees only that the file changed)."""
    here, elsewhere = await open_store(), await open_store()
    await here.create_user(user())
    async with following(here) as recorder:
        resyncs = recorder.resyncs
        await elsewhere.revoke_access_token("j-2", NOW + timedelta(minutes=5))
        await eventually(lambda: "jti:j-2" in recorder.names or recorder.resyncs > resyncs)


async def test_the_follower_keeps_confirming_nothing_was_missed(store: CredentialStore) -> None:
    async with following(store) as recorder:
        start = time.monotonic()
        await eventually(lambda: (recorder.confirmed or 0) > start, timeout=3)
        assert recorder.losses == 0
