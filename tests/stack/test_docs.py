"""/docs and /redoc work with no internet: a real browser renders them through nginx."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.docs import install_docs
from tests.stack import png
from tests.stack.harness import RunningStack

SWAGGER_GET_BLUE = (97, 175, 254)
SWAGGER_POST_GREEN = (73, 204, 144)
EXTERNAL_URL = re.compile(r"""(?:src|href)=["']?(?:https?:)?//""")


def chromium(stack: RunningStack, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium that trusts the edge's own key and nothing it was not told to."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed (apt-get install chromium; .ci/run does it)")
    leaf = x509.load_pem_x509_certificate((stack.state_dir / "tls" / "server.pem").read_bytes())
    spki = leaf.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pin = base64.b64encode(hashlib.sha256(spki).digest()).decode()
    return subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            f"--ignore-certificate-errors-spki-list={pin}",
            "--virtual-time-budget=15000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.stack
def test_swagger_ui_renders_every_operation_offline(stack: RunningStack, tmp_path: Path) -> None:
    result = chromium(stack, tmp_path / "profile", "--dump-dom", f"{stack.base_url}/docs")
    dom = result.stdout
    rendered = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    with stack.client() as client:
        schema_paths = set(client.get("/openapi.json").json()["paths"])
    assert schema_paths, "the schema lists operations"
    assert rendered == schema_paths, result.stderr[-2000:]


@pytest.mark.stack
def test_docs_assets_come_from_the_app_through_nginx(stack: RunningStack, tmp_path: Path) -> None:
    chromium(stack, tmp_path / "profile", "--dump-dom", f"{stack.base_url}/docs")
    fetched = [json.loads(line) for line in stack.access_log().splitlines()]
    assets = {
        entry["path"]: entry
        for entry in fetched
        if str(entry["path"]).startswith("/docs/assets/") and entry["status"] == 200
    }
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= set(assets)
    assert all(entry["upstream_addr"] for entry in assets.values())


@pytest.mark.stack
def test_redoc_renders_offline(stack: RunningStack, tmp_path: Path) -> None:
    result = chromium(stack, tmp_path / "profile", "--dump-dom", f"{stack.base_url}/redoc")
    assert "/v1/predict" in result.stdout
    assert "Housing Price API" in result.stdout


@pytest.mark.stack
def test_docs_screenshot_shows_the_rendered_page(stack: RunningStack, tmp_path: Path) -> None:
    shot = tmp_path / "docs.png"
    chromium(
        stack,
        tmp_path / "profile",
        "--hide-scrollbars",
        "--window-size=1280,1400",
        f"--screenshot={shot}",
        f"{stack.base_url}/docs",
    )
    image = png.decode(shot.read_bytes())
    assert (image.width, image.height) == (1280, 1400)
    colours = Counter(image.pixels())
    background_share = colours.most_common(1)[0][1] / (image.width * image.height)
    assert len(colours) > 100, "more than a blank or error page"
    assert background_share < 0.95
    # Swagger UI's method badges: operations were drawn, not just a header.
    assert colours[SWAGGER_GET_BLUE] > 500
    assert colours[SWAGGER_POST_GREEN] > 500


def docs_app() -> FastAPI:
    app = FastAPI(title="Docs check", docs_url=None, redoc_url=None)

    @app.get("/v1/thing")
    async def thing() -> dict[str, str]:
        return {}

    install_docs(app)
    return app


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_nothing_from_another_origin(page: str) -> None:
    with TestClient(docs_app()) as client:
        html = client.get(page).text
    assert not EXTERNAL_URL.search(html), html
    assert "fonts.googleapis.com" not in html
    for asset in re.findall(r"""(?:src|href)=["']?(/docs/assets/[^"' >]+)""", html):
        with TestClient(docs_app()) as client:
            assert client.get(asset).status_code == 200


def test_asset_files_are_served_with_script_and_style_types() -> None:
    with TestClient(docs_app()) as client:
        script = client.get("/docs/assets/swagger-ui-bundle.js")
        style = client.get("/docs/assets/swagger-ui.css")
        redoc = client.get("/docs/assets/redoc.standalone.js")
    assert script.headers["content-type"].startswith(("text/javascript", "application/javascript"))
    assert style.headers["content-type"].startswith("text/css")
    assert redoc.status_code == 200
    assert "SwaggerUIBundle" in script.text


def test_install_docs_needs_the_openapi_schema() -> None:
    with pytest.raises(RuntimeError, match="openapi_url"):
        install_docs(FastAPI(openapi_url=None, docs_url=None, redoc_url=None))


def test_oauth2_redirect_page_is_served() -> None:
    with TestClient(docs_app()) as client:
        response = client.get("/docs/oauth2-redirect")
    assert response.status_code == 200
    assert "oauth2" in response.text.lower()
