"""The one error type of the application, its handler, and validation errors that never echo input.

``ApiError`` is what application code raises when a request must end in an
error answer: it carries the status, the ``detail`` and any headers, and one
handler turns it into the API's ``{"detail": ...}`` body (or, for the OAuth2
token endpoints, the RFC 6749 §5.2 body it was given). Domain services raise
it (or their own domain errors, which the route turns into one) instead of
FastAPI's ``HTTPException``, so the HTTP shape of an error is decided here.

Validation errors name the field and never echo the input: FastAPI's default
422 handler echoes each bad value, and echoing a NaN or an Infinity makes the
JSON encoder fail and the 422 turn into a 500; echoing large bodies back is a
reflection risk too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException

from app.ratelimit.limiter import LimiterUnavailable
from auth.store import STORE_UNAVAILABLE

logger = logging.getLogger(__name__)

RETRY_UNAVAILABLE_SECONDS = 1


class ApiError(HTTPException):
    """An error answer: ``status_code``, ``{"detail": detail}`` (or ``body``) and ``headers``.

    A Starlette ``HTTPException`` underneath only so that FastAPI lets one raised
    while it reads a body (the body cap) through as it is, instead of turning it
    into a 400; its own handler below answers it.
    """

    def __init__(
        self,
        status_code: int,
        detail: Any,
        headers: Mapping[str, str] | None = None,
        *,
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(status_code, detail, dict(headers or {}))
        self.body = dict(body) if body is not None else {"detail": detail}


def unavailable(what: str) -> ApiError:
    """The 503 for a backing store that does not answer: an outage, not a bug."""
    return ApiError(503, f"{what} unavailable", {"Retry-After": str(RETRY_UNAVAILABLE_SECONDS)})


def field_error(field: str, message: str, kind: str = "value_error") -> ApiError:
    """A 422 in the same list shape as a schema refusal, for a rule the schema cannot express."""
    return ApiError(422, [{"loc": ["body", field], "msg": f"{field}: {message}", "type": kind}])


async def api_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(status_code=exc.status_code, content=exc.body, headers=exc.headers or None)


def _describe(error: Mapping[str, Any]) -> dict[str, Any]:
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


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at this path: RFC 9110 §10.2.1's ``Allow``.

    Starlette names only the methods of the first route whose path matched, so
    ``OPTIONS /admin/keys`` was told ``Allow: POST`` although GET is served too.
    """
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):  # what FastAPI's OpenAPI walks
        pattern = getattr(route, "path_regex", None)
        if route.methods and pattern is not None and pattern.match(request.scope["path"]):
            methods |= route.methods
    return ", ".join(sorted(methods))


async def framework_error_handler(request: Request, exc: Exception) -> JSONResponse:
    """Errors Starlette and FastAPI raise themselves, in the API's shapes.

    A JSON body that is not UTF-8 fails to decode before it is parsed, and
    FastAPI answered it with a string-``detail`` 400 no route declares; it is
    invalid JSON (RFC 8259 §8.1), so it gets the list-shaped 422 of any other
    invalid JSON. A 405 names every method served at the path.
    """
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        error = {"loc": ["body"], "msg": "body: not UTF-8 encoded JSON", "type": "json_invalid"}
        return JSONResponse(status_code=422, content={"detail": [error]})
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    return JSONResponse(
        status_code=exc.status_code, content={"detail": exc.detail}, headers=headers or None
    )


async def store_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    logger.error("credential store unavailable: %s", type(exc).__name__)
    return await api_error_handler(request, unavailable("credential store"))


async def limiter_unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    return await api_error_handler(request, unavailable("rate limiter"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, framework_error_handler)
    app.add_exception_handler(ApiError, api_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(LimiterUnavailable, limiter_unavailable_handler)
    # A store that does not answer is an outage (503), not a bug (500).
    for error in STORE_UNAVAILABLE:
        app.add_exception_handler(error, store_unavailable_handler)
