"""Key uses are written in batches off the request path, on each real store."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from auth.context import AuthContext
from auth.store.base import CredentialStore
from tests.auth.conftest import SteppingClock, StoreOpener, build_context

pytestmark = pytest.mark.anyio


async def stored_last_use(context: AuthContext, key_id: str) -> datetime | None:
    """What the store holds, not what this process merges in."""
    record = await context.store.get_key(key_id)
    assert record is not None
    return record.last_used_at


async def test_a_check_writes_nothing_and_a_flush_writes_each_key_once(
    context: AuthContext, clock: SteppingClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await context.keys.create("one", ["predict"], "100/minute")
    second = await context.keys.create("two", ["predict"], "100/minute")
    writes: list[dict[str, datetime]] = []
    touch_keys = context.store.touch_keys

    async def counted(uses: dict[str, datetime]) -> None:
        writes.append(dict(uses))
        await touch_keys(uses)

    monkeypatch.setattr(context.store, "touch_keys", counted)
    for _ in range(50):
        clock.advance(seconds=1)
        assert await context.principals.from_api_key(first.secret) is not None
    last = clock()
    assert await context.principals.from_api_key(second.secret) is not None

    assert writes == []
    assert await stored_last_use(context, first.record.id) is None
    # This process's reads already show the uses it holds.
    shown = await context.keys.get(first.record.id)
    assert shown is not None
    assert shown.last_used_at is not None
    assert shown.last_used_at < last

    await context.key_usage.flush()
    assert len(writes) == 1
    assert set(writes[0]) == {first.record.id, second.record.id}
    assert await stored_last_use(context, first.record.id) == shown.last_used_at
    await context.key_usage.flush()
    assert len(writes) == 2
    assert writes[1] == {}


async def test_the_background_flush_writes_uses_by_itself(store: CredentialStore) -> None:
    context = build_context(store, key_usage_flush_seconds=0.05)
    issued = await context.keys.create("k", ["predict"], "100/minute")
    context.start()
    try:
        assert await context.principals.from_api_key(issued.secret) is not None
        for _ in range(200):
            if await stored_last_use(context, issued.record.id) is not None:
                break
            await asyncio.sleep(0.01)
        assert await stored_last_use(context, issued.record.id) is not None
    finally:
        await context.close()


async def test_closing_writes_what_is_left(open_store: StoreOpener) -> None:
    context = build_context(await open_store())
    issued = await context.keys.create("k", ["predict"], "100/minute")
    assert await context.principals.from_api_key(issued.secret) is not None
    await context.close()
    record = await (await open_store()).get_key(issued.record.id)
    assert record is not None
    assert record.last_used_at is not None
