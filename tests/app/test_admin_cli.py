"""housing-api create-user / create-key act on the same store the server reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import MODELS_DIR, REPO, make_settings, password_token
from tests.support.payloads import V1_FEATURES


def _cli(state_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "STATE_DIR": str(state_dir), "MODELS_DIR": str(MODELS_DIR), "ENV": "test"}
    env.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
    )


def test_created_user_and_key_work_against_the_server(tmp_path: Path) -> None:
    made = _cli(tmp_path, "create-user", "erin", "--password-stdin", stdin="erin-long-password\n")
    assert made.returncode == 0, made.stderr
    key = _cli(tmp_path, "create-key", "cron job", "--rate-limit", "7/minute")
    assert key.returncode == 0, key.stderr
    secret = key.stdout.splitlines()[0]
    assert secret.startswith("hpk_")

    with TestClient(create_app(make_settings(tmp_path))) as client:
        token = password_token(client, "erin", "erin-long-password")
        by_token = client.post(
            "/v1/predict", json=V1_FEATURES, headers={"Authorization": f"Bearer {token}"}
        )
        by_key = client.post("/v1/predict", json=V1_FEATURES, headers={"X-API-Key": secret})
        assert (by_token.status_code, by_key.status_code) == (200, 200)
        assert by_key.headers["x-ratelimit-limit"] == "7"


def test_refusals_exit_2_with_a_reason(tmp_path: Path) -> None:
    short = _cli(tmp_path, "create-user", "frank", "--password-stdin", stdin="short\n")
    assert short.returncode == 2
    assert "password" in short.stderr
    bad_limit = _cli(tmp_path, "create-key", "x", "--rate-limit", "lots")
    assert bad_limit.returncode == 2
    assert "rate limit" in bad_limit.stderr


def test_a_bad_setting_is_one_line_naming_it(tmp_path: Path) -> None:
    env = {**os.environ, "STATE_DIR": str(tmp_path), "DEFAULT_RATE_LIMIT": "plenty"}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "create-key", "k"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.startswith("housing-api: bad setting DEFAULT_RATE_LIMIT:")
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_create_user_without_a_terminal_says_how(tmp_path: Path) -> None:
    env = {**os.environ, "STATE_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "create-user", "someone"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode != 0
    assert "--password-stdin" in result.stderr
    assert "Traceback" not in result.stderr


def test_serving_without_trained_models_says_what_to_run(tmp_path: Path) -> None:
    env = {**os.environ, "STATE_DIR": str(tmp_path / "state"), "MODELS_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "no trained model at" in result.stderr
    assert "make model" in result.stderr
    assert "Traceback" not in result.stderr
