"""The bounded queue between the request path and the sink.

A request only ever calls ``offer``: a ``put_nowait`` on a bounded queue.
When the queue is full the event is dropped and counted
(``prediction_log_dropped_total``): logging must never block or fail a
prediction. One background task drains the queue in batches, so a burst
costs the store one pipelined write per batch, not one round trip per row. A
sink error drops that batch (counted, logged once a minute at most) and the
writer carries on; shutdown flushes what is queued, bounded in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from app.metrics import PREDICTION_LOG_DROPPED, PREDICTION_LOG_WRITTEN
from app.predlog.record import PredictionEvent
from app.predlog.sinks import PredictionSink

logger = logging.getLogger(__name__)
BATCH_ROWS = 500
FLUSH_SECONDS_ON_CLOSE = 5.0
ERROR_LOG_INTERVAL_SECONDS = 60.0


class PredictionLog:
    def __init__(self, sink: PredictionSink, queue_size: int) -> None:
        self.sink = sink
        self._queue: asyncio.Queue[PredictionEvent] = asyncio.Queue(maxsize=queue_size)
        self._task: asyncio.Task[None] | None = None
        self._last_error_logged = 0.0

    def offer(self, event: PredictionEvent) -> bool:
        """Queue ``event`` for writing; ``False`` (and counted) when the queue is full."""
        try:
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            PREDICTION_LOG_DROPPED.labels("queue_full").inc(len(event.prices))
            return False
        return True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="prediction-log-writer")

    async def close(self) -> None:
        """Write what is queued (at most ``FLUSH_SECONDS_ON_CLOSE``), then stop.

        Whatever could not be written in that time is counted as dropped.
        """
        if self._task is not None:
            task, self._task = self._task, None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), FLUSH_SECONDS_ON_CLOSE)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        left = 0
        while not self._queue.empty():
            left += len(self._queue.get_nowait().prices)
        if left:
            PREDICTION_LOG_DROPPED.labels("shutdown").inc(left)
        await self.sink.close()

    async def flush(self) -> None:
        """Wait until everything queued so far has been written (or dropped)."""
        await self._queue.join()

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first]
            rows = len(first.prices)
            while rows < BATCH_ROWS and not self._queue.empty():
                event = self._queue.get_nowait()
                batch.append(event)
                rows += len(event.prices)
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _write(self, batch: list[PredictionEvent]) -> None:
        chunks = [chunk for event in batch for chunk in event.chunks()]
        rows = sum(len(event.prices) for event in batch)
        try:
            await self.sink.write(chunks)
        except Exception:
            PREDICTION_LOG_DROPPED.labels("store_error").inc(rows)
            now = time.monotonic()
            if now - self._last_error_logged > ERROR_LOG_INTERVAL_SECONDS:
                self._last_error_logged = now
                logger.warning("prediction log: %d rows dropped", rows, exc_info=True)
            return
        PREDICTION_LOG_WRITTEN.inc(rows)
