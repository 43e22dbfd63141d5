"""Both prediction-log stores keep the newest entries of each version, capped."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from app.predlog.record import CHUNK_ROWS, LoggedPrediction, PredictionEvent
from app.predlog.sinks import STREAM_PREFIX, PredictionSink, RedisStreamSink, SqliteSink

pytestmark = pytest.mark.anyio


def features(index: int) -> list[float]:
    return [4000.0 + index, 3.0, 1.0, 2.0, 0.0]


def event(version: str, first: int, rows: int = 1) -> PredictionEvent:
    """Rows ``first`` .. ``first + rows - 1`` of one request ``req-<first>``."""
    return PredictionEvent(
        version=version,
        model_sha256="ab" * 32,
        rows=[features(i) for i in range(first, first + rows)],
        prices=[50_000.5 + i for i in range(first, first + rows)],
        at=1_700_000_000.25 + first,
        principal="key:k1",
        request_id=f"req-{first}",
    )


def entry(version: str, index: int, request: int | None = None) -> LoggedPrediction:
    first = index if request is None else request
    return LoggedPrediction(
        version=version,
        model_sha256="ab" * 32,
        features=features(index),
        price=50_000.5 + index,
        at=1_700_000_000.25 + first,
        principal="key:k1",
        request_id=f"req-{first}",
    )


@pytest.fixture(params=["sqlite", "redis"])
async def sink(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[PredictionSink]:
    if request.param == "sqlite":
        made: PredictionSink = SqliteSink(tmp_path / "predictions.sqlite3", max_entries=100)
    else:
        client = Redis.from_url(request.getfixturevalue("redis_url"))
        made = RedisStreamSink(client, max_entries=100, owns_client=True)
    yield made
    await made.close()


async def test_rows_come_back_newest_first_and_whole(sink: PredictionSink) -> None:
    await sink.write([event("v1", i) for i in range(5)])
    await sink.write([event("v2", 99)])
    newest = await sink.newest("v1", 3)
    assert newest == [entry("v1", 4), entry("v1", 3), entry("v1", 2)]
    assert await sink.newest("v2", 10) == [entry("v2", 99)]
    assert await sink.newest("v3", 10) == []


async def test_a_batch_s_rows_are_read_back_across_entries(sink: PredictionSink) -> None:
    await sink.write([event("v1", 0)])
    await sink.write(list(event("v1", 1, rows=250).chunks()))
    assert [len(chunk.prices) for chunk in event("v1", 1, rows=250).chunks()] == [
        CHUNK_ROWS, CHUNK_ROWS, 50,
    ]  # fmt: skip
    newest = await sink.newest("v1", 251)
    assert newest[0] == entry("v1", 250, request=1)
    assert newest[249] == entry("v1", 1, request=1)
    assert newest[250] == entry("v1", 0)
    assert len(await sink.newest("v1", 120)) == 120
    assert len(await sink.newest("v1", 1000)) == 251


async def test_each_version_is_capped_to_its_newest_entries(sink: PredictionSink) -> None:
    for start in range(0, 1000, 100):
        await sink.write([event("v1", i) for i in range(start, start + 100)])
    kept = await sink.newest("v1", 10_000)
    # SQLite trims exactly; a Redis stream with MAXLEN ~ trims whole nodes (≤ ~100 more).
    assert 100 <= len(kept) <= 200
    assert kept[0] == entry("v1", 999)
    assert [e.request_id for e in kept] == [f"req-{i}" for i in range(999, 999 - len(kept), -1)]


async def test_the_redis_stream_is_in_the_app_s_key_space(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    sink = RedisStreamSink(client, max_entries=100)
    await sink.write([event("v1", 1)])
    assert await client.xlen(STREAM_PREFIX + "v1") == 1
    assert STREAM_PREFIX.startswith("hapi:")
    await client.aclose()


async def test_the_sqlite_file_is_private(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "p.sqlite3", max_entries=100)
    await sink.write([event("v1", 1)])
    await sink.close()
    assert (tmp_path / "p.sqlite3").stat().st_mode & 0o077 == 0
