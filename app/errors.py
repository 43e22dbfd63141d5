"""The one error type of the application, its handler, and validation errors that never echo input.

``ApiError`` is what application code raises when a request must end in an
error answer: it carries the status, the ``detail`` and any headers, and one
handler turns it into the API's ``{"detail": ...}`` body. Domain services
raise it (or a subclass) instead of FastAPI's ``HTTPException``, so the HTTP
shape of an error is decided in one place.

Validation errors name the field and never echo the input.

FastAPI's default 422 handler echoes each bad value; echoing a NaN or an
Infinity makes the JSON encoder fail and the 422 turns into a 500, and echoing
large bodies back is a reflection risk. This handler keeps what a client needs
(where, what, which rule) and drops the input.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from auth.store import STORE_UNAVAILABLE

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer: ``status_code``, ``{"detail": detail}`` and ``headers``."""

    def __init__(
        self, status_code: int, detail: Any, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = dict(headers or {})


async def api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(
        status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers
    )


def _describe(error: dict[str, Any]) -> dict[str, Any]:
    loc = [part for part in error.get("loc", ()) if isinstance(part, str | int)]
    if error.get("type") == "json_invalid":
        position = loc[1] if len(loc) > 1 else "?"
        return {
            "loc": loc[:1],
            "msg": f"body: invalid JSON near character {position}",
            "type": "json_invalid",
        }
    field = ".".join(str(part) for part in loc[1:]) or "body"
    return {"loc": loc, "msg": f"{field}: {error.get('msg', 'invalid')}", "type": error.get("type")}


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(
        status_code=422, content={"detail": [_describe(error) for error in exc.errors()]}
    )


async def store_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.error("credential store unavailable: %s", type(exc).__name__)
    return JSONResponse(
        status_code=503,
        content={"detail": "credential store unavailable"},
        headers={"Retry-After": "1"},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    # A store that does not answer is an outage (503), not a bug (500).
    for error in STORE_UNAVAILABLE:
        app.add_exception_handler(error, store_unavailable_handler)
