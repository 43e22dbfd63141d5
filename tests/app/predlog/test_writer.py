"""The queue between requests and the store: never blocks, drops and counts when it must."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from app.metrics import PREDICTION_LOG_DROPPED, PREDICTION_LOG_WRITTEN
from app.predlog.record import PredictionEvent
from app.predlog.sinks import RedisStreamSink, SqliteSink
from app.predlog.writer import PredictionLog
from app.redis_client import redis_client
from tests.support.processes import free_port

pytestmark = pytest.mark.anyio


def event(rows: int, request_id: str = "r") -> PredictionEvent:
    return PredictionEvent(
        version="v1",
        model_sha256="cd" * 32,
        rows=[[4000.0 + i, 3, 1, 2, 0] for i in range(rows)],
        prices=[60_000.0 + i for i in range(rows)],
        at=time.time(),
        principal="user:alice",
        request_id=request_id,
    )


def dropped(reason: str) -> float:
    return PREDICTION_LOG_DROPPED.labels(reason)._value.get()


async def test_every_row_of_every_event_is_written(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "p.sqlite3", max_entries=10_000)
    log = PredictionLog(sink, queue_size=100)
    log.start()
    written_before = PREDICTION_LOG_WRITTEN._value.get()
    assert log.offer(event(1, "one"))
    assert log.offer(event(1000, "batch"))
    await log.flush()
    entries = await sink.newest("v1", 5000)
    assert len(entries) == 1001
    assert entries[0].request_id == "batch"
    assert entries[-1].request_id == "one"
    assert entries[-1].principal == "user:alice"
    assert PREDICTION_LOG_WRITTEN._value.get() - written_before == 1001
    await log.close()


async def test_a_full_queue_drops_and_counts_without_blocking(tmp_path: Path) -> None:
    log = PredictionLog(SqliteSink(tmp_path / "p.sqlite3", max_entries=1000), queue_size=3)
    before = dropped("queue_full")
    started = time.perf_counter()
    # Not started: nothing drains, so the fourth and fifth offers find it full.
    accepted = [log.offer(event(2)) for _ in range(5)]
    assert time.perf_counter() - started < 0.05
    assert accepted == [True, True, True, False, False]
    assert dropped("queue_full") - before == 4
    await log.close()


async def test_a_store_that_fails_costs_rows_not_the_writer(tmp_path: Path) -> None:
    dead = redis_client(f"redis://127.0.0.1:{free_port()}/0", timeout_seconds=0.2)
    log = PredictionLog(RedisStreamSink(dead, max_entries=100, owns_client=True), queue_size=10)
    log.start()
    before = dropped("store_error")
    log.offer(event(3))
    await asyncio.wait_for(log.flush(), 5)
    assert dropped("store_error") - before == 3
    log.offer(event(2))  # the writer is still alive and still counting
    await asyncio.wait_for(log.flush(), 5)
    assert dropped("store_error") - before == 5
    await log.close()


async def test_closing_writes_what_is_queued(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "p.sqlite3", max_entries=1000)
    log = PredictionLog(sink, queue_size=100)
    log.start()
    for index in range(20):
        log.offer(event(1, f"r{index}"))
    await log.close()
    reopened = SqliteSink(tmp_path / "p.sqlite3", max_entries=1000)
    assert len(await reopened.newest("v1", 100)) == 20
    await reopened.close()
