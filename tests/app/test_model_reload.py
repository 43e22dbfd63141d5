"""`housing-api reload`: verified artifacts are swapped in by the running app; bad ones never."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from app.ml.reload_request import REQUEST_FILE
from tests.app.conftest import ADMIN, ADMIN_PASSWORD, MODELS_DIR, make_settings, password_token


@pytest.fixture
def models(tmp_path: Path) -> Path:
    copy = tmp_path / "models"
    shutil.copytree(MODELS_DIR, copy)
    return copy


@contextmanager
def serving(state: Path, models: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The app on ``models``, looking for reload requests every 50 ms, and an admin's headers."""
    settings = make_settings(state, models_dir=models, model_reload_poll_seconds=0.05)
    with TestClient(create_app(settings)) as client:
        yield client, {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}


def served_sha(client: TestClient, headers: dict[str, str]) -> str:
    return str(client.get("/v1/model", headers=headers).json()["artifact_sha256"])


def wait_for_sha(client: TestClient, headers: dict[str, str], sha: str) -> str:
    deadline = time.monotonic() + 5
    current = served_sha(client, headers)
    while current != sha and time.monotonic() < deadline:
        time.sleep(0.05)
        current = served_sha(client, headers)
    return current


def tamper(models: Path) -> None:
    """One byte more: still a loadable pickle, but no longer the artifact the manifest names."""
    artifact = next((models / "v1").glob("*.joblib"))
    artifact.write_bytes(artifact.read_bytes() + b"\0")


def cli(monkeypatch: pytest.MonkeyPatch, state: Path, models: Path, *argv: str) -> int:
    monkeypatch.setenv("STATE_DIR", str(state))
    monkeypatch.setenv("MODELS_DIR", str(models))
    return main(list(argv))


def test_a_retrained_model_is_served_after_reload(
    tmp_path: Path,
    models: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = tmp_path / "state"
    with serving(state, models) as (client, headers):
        old = served_sha(client, headers)
        assert main(["train", "--seed", "7", "--out", str(models),
                     "--card", str(tmp_path / "card" / "CARD.md")]) == 0  # fmt: skip
        time.sleep(0.3)
        assert served_sha(client, headers) == old  # training alone changes nothing served
        capsys.readouterr()
        assert cli(monkeypatch, state, models, "reload") == 0
        new = capsys.readouterr().out.split("v1: ")[1].split()[0]
        assert new != old
        assert wait_for_sha(client, headers, new) == new
        response = client.post(
            "/v1/predict",
            json={"lotsize": 5000, "bedrooms": 3, "bathrms": 1, "stories": 2, "garagepl": 1},
            headers=headers,
        )
        assert response.status_code == 200


def test_a_tampered_artifact_is_refused_and_nothing_changes(
    tmp_path: Path,
    models: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    state = tmp_path / "state"
    tamper(models)
    assert cli(monkeypatch, state, models, "reload") == 1
    error = capsys.readouterr().err
    assert "reload refused" in error
    assert "does not match" in error
    assert not (state / REQUEST_FILE).exists()


def test_a_worker_refuses_artifacts_that_changed_after_the_request(
    tmp_path: Path, models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    with serving(state, models) as (client, headers):
        old = served_sha(client, headers)
        assert cli(monkeypatch, state, models, "reload") == 0
        tamper(models)  # between the request and the workers acting on it
        time.sleep(0.5)
        assert served_sha(client, headers) == old
        metrics = client.get("/metrics", headers=headers).text
    assert 'model_reloads_total{outcome="refused"}' in metrics
