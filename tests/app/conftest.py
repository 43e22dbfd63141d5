"""An app on the real trained models, with its own state directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO / "models"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, env="test", state_dir=tmp_path / "state", models_dir=MODELS_DIR)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client
