"""Interactive API docs (Swagger UI, ReDoc) that work with no internet access.

FastAPI's built-in pages load their JavaScript and CSS from a public CDN, so
they break on an air-gapped host and let a third party run script on a page
that holds our credentials. Here the same pages load assets the app serves
itself, from the files shipped in the ``fastapi-offline`` wheel (Swagger UI 5,
which reads the OpenAPI 3.1 schemas FastAPI emits, and ReDoc 2). Only its
static files are used, not its ``FastAPI`` replacement.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
SWAGGER_JS = "swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui.css"
REDOC_JS = "redoc.standalone.js"
FAVICON = "favicon.png"
REQUIRED_ASSETS = (SWAGGER_JS, SWAGGER_CSS, REDOC_JS, FAVICON)


def install_docs(
    app: FastAPI,
    *,
    docs_url: str = "/docs",
    redoc_url: str = "/redoc",
    assets_url: str = "/docs/assets",
) -> None:
    """Serve the docs assets and register ``docs_url`` and ``redoc_url`` on ``app``.

    Build the app with ``docs_url=None, redoc_url=None`` so FastAPI does not
    register its CDN-backed pages on the same paths.
    """
    missing = [name for name in REQUIRED_ASSETS if not (ASSETS_DIR / name).is_file()]
    if missing:
        raise RuntimeError(f"docs assets missing from {ASSETS_DIR}: {', '.join(missing)}")
    if app.openapi_url is None:
        raise RuntimeError("install_docs needs the app's OpenAPI schema (openapi_url is None)")
    openapi_url = app.openapi_url
    oauth2_redirect_url = app.swagger_ui_oauth2_redirect_url

    app.mount(assets_url, StaticFiles(directory=ASSETS_DIR), name="docs-assets")

    async def swagger_ui(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return with_nonce_csp(
            get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=f"{root}{assets_url}/{SWAGGER_JS}",
                swagger_css_url=f"{root}{assets_url}/{SWAGGER_CSS}",
                swagger_favicon_url=f"{root}{assets_url}/{FAVICON}",
                oauth2_redirect_url=root + oauth2_redirect_url if oauth2_redirect_url else None,
                init_oauth=app.swagger_ui_init_oauth,
                swagger_ui_parameters=app.swagger_ui_parameters,
            )
        )

    async def redoc(request: Request) -> HTMLResponse:
        root = _root_path(request)
        return with_nonce_csp(
            get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=f"{root}{assets_url}/{REDOC_JS}",
                redoc_favicon_url=f"{root}{assets_url}/{FAVICON}",
                with_google_fonts=False,
            )
        )

    app.add_route(docs_url, swagger_ui, include_in_schema=False)
    app.add_route(redoc_url, redoc, include_in_schema=False)
    if oauth2_redirect_url:

        async def oauth2_redirect(request: Request) -> HTMLResponse:
            return get_swagger_ui_oauth2_redirect_html()

        app.add_route(oauth2_redirect_url, oauth2_redirect, include_in_schema=False)


def with_nonce_csp(page: HTMLResponse) -> HTMLResponse:
    """The page with a Content-Security-Policy that runs only its own scripts.

    Scripts load from this origin, and the one inline script (Swagger UI's
    start-up) runs because it carries this answer's nonce; nothing else may
    run, frame the page or be fetched from elsewhere. Styles may be inline:
    both UIs set them from script.
    """
    nonce = secrets.token_urlsafe(16)
    body = bytes(page.body).replace(b"<script>", f'<script nonce="{nonce}">'.encode())
    policy = "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "worker-src blob:",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        )
    )
    return HTMLResponse(body, headers={"Content-Security-Policy": policy})


def _root_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")
