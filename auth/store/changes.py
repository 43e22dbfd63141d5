"""Telling caches that a credential changed: what is named, and who hears it.

Every store write that ends or alters a credential names what it changed,
one *entry name* per fact a cache may hold (``user:alice``, ``key:<digest>``,
``family:<id>``, ``jti:<id>``). The store tells its listeners in this process
before the write returns, and, when other processes can hold caches (Redis),
tells them too, atomically with the write. The Lua scripts spell the names
exactly as the functions below do.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol


def user_entry(username: str) -> str:
    return f"user:{username}"


def key_entry(secret_digest: str) -> str:
    return f"key:{secret_digest}"


def family_entry(family_id: str) -> str:
    return f"family:{family_id}"


def jti_entry(jti: str) -> str:
    return f"jti:{jti}"


class ChangeListener(Protocol):
    """Who follows a store's changes (the principal cache).

    Times are ``time.monotonic()`` readings.
    """

    def invalidate(self, names: Iterable[str]) -> None:
        """These entries changed: forget them."""

    def resync(self) -> None:
        """Following (again) from now on; changes before now may have been missed: forget all."""

    def confirm(self, as_of: float) -> None:
        """Every change made before ``as_of`` has been delivered."""

    def lost(self) -> None:
        """Changes may go unheard from now on (the feed broke)."""


class ChangeFanout:
    """The listeners following a store in this process, told of its own writes directly."""

    def __init__(self) -> None:
        self._listeners: list[ChangeListener] = []

    def add(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def remove(self, listener: ChangeListener) -> None:
        self._listeners.remove(listener)

    def invalidate(self, names: Iterable[str]) -> None:
        names = list(names)
        if names:
            for listener in self._listeners:
                listener.invalidate(names)
