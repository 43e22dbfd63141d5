"""A change listener that writes down what it hears, and a way to follow a store with it."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterable

from auth.store.base import CredentialStore


class Recorder:
    def __init__(self) -> None:
        self.names: list[str] = []
        self.resyncs = 0
        self.losses = 0
        self.confirmed: float | None = None

    def invalidate(self, names: Iterable[str]) -> None:
        self.names.extend(names)

    def resync(self) -> None:
        self.resyncs += 1

    def confirm(self, as_of: float) -> None:
        self.confirmed = as_of

    def lost(self) -> None:
        self.losses += 1


async def eventually(check: Callable[[], bool], timeout: float = 5.0) -> float:
    """Seconds until ``check()`` held, polled every millisecond; fail after ``timeout``."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"not within {timeout} s")
        await asyncio.sleep(0.001)
    return time.monotonic() - start


@contextlib.asynccontextmanager
async def following(store: CredentialStore) -> AsyncIterator[Recorder]:
    """``store.follow_changes`` running into a ``Recorder``, once it has subscribed."""
    recorder = Recorder()
    task = asyncio.create_task(store.follow_changes(recorder))
    try:
        await eventually(lambda: recorder.resyncs > 0)
        yield recorder
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
