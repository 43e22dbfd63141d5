"""`housing-api drift-report`: a page per feature, training vs live, from the logged traffic."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.cli import main
from app.main import create_app
from tests.app.conftest import ADMIN, ADMIN_PASSWORD, MODELS_DIR, make_settings, password_token
from tests.stack import png

DRIFTED_RED = (0xB0, 0x00, 0x20)


def shifted_traffic(state: Path) -> None:
    """120 houses with every lot at 20,000 sq ft or more, logged through the real app."""
    with TestClient(create_app(make_settings(state))) as client:
        headers = {"Authorization": f"Bearer {password_token(client, ADMIN, ADMIN_PASSWORD)}"}
        houses = [
            {"lotsize": 20_000 + 50 * i, "bedrooms": 2 + i % 3, "bathrms": 1 + i % 2,
             "stories": 1 + i % 3, "garagepl": i % 3}
            for i in range(120)
        ]  # fmt: skip
        response = client.post("/v1/predict/batch", json={"instances": houses}, headers=headers)
        assert response.status_code == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            body = client.get("/admin/drift/v1", headers=headers).json()
            if body["window_size"] == 120:
                return
            time.sleep(0.05)
    raise AssertionError("the prediction log did not catch up")


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    state = tmp_path_factory.mktemp("drift") / "state"
    shifted_traffic(state)
    out = state.parent / "drift.html"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STATE_DIR", str(state))
        patch.setenv("MODELS_DIR", str(MODELS_DIR))
        assert main(["drift-report", "--out", str(out)]) == 0
    return out


def test_the_report_flags_the_shifted_feature(report: Path) -> None:
    page = report.read_text()
    rows = dict(re.findall(r"<tr([^>]*)><td>(\w+)</td>", page)[::-1])
    drifted = {
        name for attrs, name in re.findall(r"<tr([^>]*)><td>(\w+)</td>", page) if "drifted" in attrs
    }
    assert "lotsize" in drifted
    assert rows  # every feature has a row
    assert page.count("data:image/png;base64,") == 1  # v1 has traffic, v2 says it has none
    assert "No predictions logged yet." in page
    assert "120 live predictions" in page


@pytest.mark.stack  # a browser: not in `make test-fast`
def test_the_rendered_report_shows_the_histograms(report: Path, tmp_path: Path) -> None:
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed (apt-get install chromium; .ci/run does it)")
    shot = tmp_path / "drift.png"
    subprocess.run(
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,1400",
         f"--screenshot={shot}", report.as_uri()],
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    image = png.decode(shot.read_bytes())
    colours = Counter(image.pixels())
    assert len(colours) > 100, "more than a blank page"
    assert colours.most_common(1)[0][1] / (image.width * image.height) < 0.95
    # matplotlib's default blue and orange bars, and the drifted panel's red title.
    assert sum(n for c, n in colours.items() if c[2] > 150 and c[0] < 60) > 500
    assert sum(n for c, n in colours.items() if c[0] > 230 and 100 < c[1] < 150 and c[2] < 40) > 500
