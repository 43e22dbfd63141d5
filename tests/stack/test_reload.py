"""`housing-api reload` on the real stack, under load: no failed request, the new SHA-256 served."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.stack import api
from tests.stack.harness import REPO, RunningStack, running_stack, stack_environment

pytestmark = [pytest.mark.stack, pytest.mark.anyio]

HOUSE = {"lotsize": 5000, "bedrooms": 3, "bathrms": 1, "stories": 2, "garagepl": 1}
CONCURRENCY = 16


@pytest.fixture(scope="module")
def reloadable(stack_state_dirs: Callable[[str], Path]) -> Iterator[tuple[RunningStack, Path]]:
    """A stack serving its own copy of the models, so retraining touches nothing else."""
    models = stack_state_dirs("reload-models")
    models.chmod(0o755)
    shutil.copytree(REPO / "models", models, dirs_exist_ok=True)
    env = stack_environment(stack_state_dirs("reload"), MODELS_DIR=str(models))
    with running_stack(env) as running:
        yield running, models


def housing_api(*argv: str, state_dir: Path, models: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ["PATH"], "STATE_DIR": str(state_dir), "MODELS_DIR": str(models)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_reload_under_load_fails_no_request(
    reloadable: tuple[RunningStack, Path], tmp_path: Path
) -> None:
    stack, models = reloadable
    admin = api.admin_key_headers(stack)
    with stack.client() as client:
        key = api.predict_key(client, admin, "1000000/minute", name="reload-load")
        old = client.get("/v1/model", headers=admin).json()["artifact_sha256"]
    headers = api.key_headers(key)
    statuses: Counter[object] = Counter()
    stop = asyncio.Event()

    async def caller(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            try:
                response = await client.post("/v1/predict", json=HOUSE, headers=headers)
                statuses[response.status_code] += 1
            except httpx.HTTPError as error:
                statuses[type(error).__name__] += 1

    async with stack.async_client() as client:
        callers = [asyncio.create_task(caller(client)) for _ in range(CONCURRENCY)]
        await asyncio.sleep(1)
        trained = await asyncio.to_thread(
            housing_api, "train", "--seed", "7", "--out", str(models),
            "--card", str(tmp_path / "CARD.md"), state_dir=stack.state_dir, models=models,
        )  # fmt: skip
        assert trained.returncode == 0, trained.stderr
        reloaded = await asyncio.to_thread(
            housing_api, "reload", state_dir=stack.state_dir, models=models
        )
        assert reloaded.returncode == 0, reloaded.stderr
        new = json.loads((models / "v1" / "manifest.json").read_text())["sha256"]
        assert new != old
        deadline = time.monotonic() + 10
        served: set[str] = set()
        while time.monotonic() < deadline:
            # Each answer comes from either worker: both must have swapped.
            answers = [await client.get("/v1/model", headers=admin) for _ in range(6)]
            served = {answer.json()["artifact_sha256"] for answer in answers}
            if served == {new}:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)
        stop.set()
        await asyncio.gather(*callers)
    print(f"\nreload under load: {sum(statuses.values())} requests, {dict(statuses)}")
    assert served == {new}
    assert set(statuses) == {200}, statuses
    assert statuses[200] > 100
