"""When each API key was last used, written in batches off the request path.

Writing ``last_used_at`` from the request cost a store write (a Redis round
trip) on the hot path at least once a minute per key, and with the principal
cache it would have been the only store access a cached key still made. Uses
are instead noted in memory (the latest moment per key, so a thousand uses
are one entry) and written by a background task every ``flush_seconds`` in
one round trip; what is not yet written is merged into what the admin reads
from this process. The cost: ``last_used_at`` read through another worker is
up to ``flush_seconds`` behind, and a worker killed with ``SIGKILL`` loses its
last few seconds of uses (a clean stop writes them).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import datetime

from auth.cancellation import stop_if_cancelled
from auth.store import STORE_UNAVAILABLE
from auth.store.base import ApiKeyRecord, CredentialStore

logger = logging.getLogger(__name__)

DEFAULT_FLUSH_SECONDS = 5.0


class KeyUsage:
    def __init__(self, store: CredentialStore, *, flush_seconds: float = DEFAULT_FLUSH_SECONDS):
        if flush_seconds <= 0:
            raise ValueError("flush_seconds must be positive")
        self._store = store
        self._flush_seconds = flush_seconds
        self._pending: dict[str, datetime] = {}

    def record(self, key_id: str, at: datetime) -> None:
        """Note a use; no I/O."""
        known = self._pending.get(key_id)
        if known is None or known < at:
            self._pending[key_id] = at

    def merged(self, record: ApiKeyRecord) -> ApiKeyRecord:
        """``record`` with the uses noted here and not yet written."""
        noted = self._pending.get(record.id)
        if noted is None or (record.last_used_at is not None and record.last_used_at >= noted):
            return record
        return replace(record, last_used_at=noted)

    async def flush(self) -> None:
        """Write every noted use in one round trip; on failure keep them for the next try."""
        pending, self._pending = self._pending, {}
        try:
            await self._store.touch_keys(pending)
        except BaseException:
            for key_id, at in pending.items():
                self.record(key_id, at)
            raise

    async def run(self) -> None:
        """Flush every ``flush_seconds`` until cancelled; an outage only delays the writes."""
        while True:
            stop_if_cancelled()  # a Redis write may have swallowed the cancellation
            await asyncio.sleep(self._flush_seconds)
            try:
                await self.flush()
            except STORE_UNAVAILABLE as exc:
                logger.warning("key use not recorded yet (store unavailable): %s", exc)
