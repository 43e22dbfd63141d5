"""Training is reproducible, the challenger beats the champion, the card is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.ml.card import render_card
from app.ml.manifest import Manifest, read_verified_manifest
from app.ml.train import CV_FOLDS

REPO = Path(__file__).resolve().parents[3]


def _train(out: Path, card: Path) -> list[Manifest]:
    """Train in a fresh interpreter, the way `make model` does."""
    subprocess.run(
        [sys.executable, "-m", "app.cli", "train", "--out", str(out), "--card", str(card)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return [read_verified_manifest(out / version) for version in ("v1", "v2")]


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Manifest], list[Manifest]]:
    base = tmp_path_factory.mktemp("training")
    first = _train(base / "a", base / "a.md")
    second = _train(base / "b", base / "b.md")
    return first, second


def test_same_seed_gives_byte_identical_artifacts(two_runs) -> None:
    first, second = two_runs
    assert [m.sha256 for m in first] == [m.sha256 for m in second]
    assert [m.metrics for m in first] == [m.metrics for m in second]


def test_challenger_beats_champion_on_held_out_data(two_runs) -> None:
    v1, v2 = two_runs[0]
    assert v2.metrics["holdout"]["r2_price"] > v1.metrics["holdout"]["r2_price"]
    assert v2.metrics["holdout"]["mae_price"] < v1.metrics["holdout"]["mae_price"]
    assert v2.metrics[f"cv{CV_FOLDS}"]["r2_log_price"] > v1.metrics[f"cv{CV_FOLDS}"]["r2_log_price"]


def test_manifest_records_what_the_issue_asks(two_runs) -> None:
    v1, v2 = two_runs[0]
    assert v1.feature_names == ["lotsize", "bedrooms", "bathrms", "stories", "garagepl"]
    assert len(v2.feature_names) == 11
    lotsize = v1.features[0]
    assert (lotsize.train_min, lotsize.train_max) == (1650.0, 16200.0)
    for split in (f"cv{CV_FOLDS}", "holdout"):
        assert set(v1.metrics[split]) == {"r2_price", "mae_price", "r2_log_price", "mae_log_price"}
    assert {"scikit-learn", "numpy", "joblib", "python"} <= set(v2.libraries)
    assert len(v1.sha256) == 64
    assert v1.trained_at


def test_committed_model_card_matches_a_fresh_training_run(two_runs) -> None:
    assert (REPO / "docs" / "MODEL_CARD.md").read_text() == render_card(two_runs[0])
