"""The shell commands act on the store of the stack running on their STATE_DIR, or refuse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

from app.local_stack import read_env_file
from tests.stack import api
from tests.stack.harness import REPO, RunningStack
from tests.support.payloads import V1_FEATURES
from tests.support.processes import free_port

pytestmark = pytest.mark.stack


def housing_api(
    state_dir: Path, *argv: str, stdin: str = "", redis_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The CLI with only PATH, STATE_DIR and any REDIS_URL: nothing else says where the store is."""
    env = {"PATH": os.environ["PATH"], "STATE_DIR": str(state_dir)}
    if redis_url is not None:
        env["REDIS_URL"] = redis_url
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *argv],
        cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_key_made_in_the_shell_works_through_the_stack(stack: RunningStack) -> None:
    made = housing_api(stack.state_dir, "create-key", "from-the-shell", "--rate-limit", "60/minute")
    assert made.returncode == 0, made.stderr
    secret = made.stdout.splitlines()[0]
    with stack.client() as client:
        answer = client.post("/v1/predict", json=V1_FEATURES, headers={"X-API-Key": secret})
    assert answer.status_code == 200, answer.text
    assert not (stack.state_dir / "credentials.sqlite3").exists()


def test_a_user_made_in_the_shell_can_log_in_through_the_stack(stack: RunningStack) -> None:
    password = "a-shell-made-long-password"
    made = housing_api(
        stack.state_dir, "create-user", "shell-user", "--password-stdin", stdin=password + "\n"
    )
    assert made.returncode == 0, made.stderr
    with stack.client() as client:
        form = {"grant_type": "password", "username": "shell-user", "password": password}
        assert client.post("/token", data=form).status_code == 200


def test_a_redis_url_naming_the_stack_s_redis_gets_the_stack_s_secrets(stack: RunningStack) -> None:
    password = read_env_file(stack.state_dir / "stack.env")["REDIS_APP_PASSWORD"]
    named = f"redis://app:{quote(password, safe='')}@localhost:{stack.info.redis_port}"
    made = housing_api(stack.state_dir, "create-key", "named-redis", redis_url=named)
    assert made.returncode == 0, made.stderr
    with stack.client() as client:
        headers = {"X-API-Key": made.stdout.splitlines()[0]}
        assert client.post("/v1/predict", json=V1_FEATURES, headers=headers).status_code == 200


def test_a_redis_url_naming_another_redis_is_refused_and_nothing_is_written(
    stack: RunningStack, redis_url: str
) -> None:
    refused = housing_api(stack.state_dir, "create-key", "elsewhere", redis_url=redis_url)
    assert refused.returncode == 2
    assert refused.stderr.startswith("housing-api: refused: REDIS_URL names redis://127.0.0.1:")
    assert len(refused.stderr.strip().splitlines()) == 1
    other = redis.Redis.from_url(redis_url)
    try:
        assert other.dbsize() == 0
    finally:
        other.close()
    assert not (stack.state_dir / "credentials.sqlite3").exists()


@pytest.mark.parametrize(
    ("manifest", "says"),
    [({"redis_port": None}, "set REDIS_URL"), ({"redis_port": 0}, "does not answer")],
)
def test_a_stack_whose_store_cannot_be_reached_is_refused(
    tmp_path: Path, manifest: dict[str, int | None], says: str
) -> None:
    (tmp_path / "run").mkdir()
    port = free_port() if manifest["redis_port"] == 0 else None
    (tmp_path / "run" / "stack.json").write_text(json.dumps({"redis_port": port}))
    (tmp_path / "stack.env").write_text("REDIS_APP_PASSWORD=x\n")
    refused = housing_api(tmp_path, "create-key", "nowhere")
    assert refused.returncode == 2
    assert says in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "credentials.sqlite3").exists()


def test_the_drift_report_reads_the_stack_s_prediction_log(
    stack: RunningStack, admin_headers: dict[str, str], tmp_path: Path
) -> None:
    with stack.client() as client:
        key = api.predict_key(client, admin_headers, "1000/minute", name=api.unique("drift-cli"))
        batch = {"instances": [V1_FEATURES] * 20}
        assert (
            client.post("/v1/predict/batch", json=batch, headers=api.key_headers(key)).status_code
            == 200
        )
    out = tmp_path / "drift.html"
    made = housing_api(stack.state_dir, "drift-report", "--version", "v1", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert "v1: 0 logged" not in made.stdout
    assert "live predictions" in out.read_text()
