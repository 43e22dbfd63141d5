"""Every error answer a route can give, declared once for the OpenAPI document.

Routes name the statuses they can answer (``responses=errors(404, 409)``);
the description, body schema and headers of each live in ``ERROR_ANSWERS``
only. A schema fuzzer checks every answer against this document (tests/app/
test_schema_fuzz.py), so a status missing here fails the suite: it found
undocumented 404s and 409s on four admin routes and a 400 no route declared.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel


class ErrorDetail(BaseModel):
    detail: str


def _header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


RATE_LIMIT_HEADERS = {
    "X-RateLimit-Limit": _header("Requests allowed in the window"),
    "X-RateLimit-Remaining": _header("Requests left in the window"),
    "X-RateLimit-Reset": _header("When the oldest counted request stops counting (epoch s)"),
    "RateLimit-Policy": _header('IETF draft: "<policy>";q=<quota>;w=<window s>'),
    "RateLimit": _header('IETF draft: "<policy>";r=<remaining>;t=<seconds to reset>'),
}
RETRY_AFTER = {"Retry-After": _header("Seconds to wait")}

ERROR_ANSWERS: dict[int, dict[str, Any]] = {
    400: {"model": ErrorDetail, "description": "Refused: the message says which rule"},
    401: {
        "model": ErrorDetail,
        "description": "Missing, malformed, expired, revoked or forged credential",
        "headers": {"WWW-Authenticate": _header('Bearer realm="housing-api", ...')},
    },
    403: {"model": ErrorDetail, "description": "The credential lacks the scope this route needs"},
    404: {"model": ErrorDetail, "description": "No such resource"},
    409: {"model": ErrorDetail, "description": "The resource's state forbids this"},
    413: {"model": ErrorDetail, "description": "Request body over the size limit"},
    429: {
        "model": ErrorDetail,
        "description": "Rate limit exceeded",
        "headers": {**RETRY_AFTER, **RATE_LIMIT_HEADERS},
    },
    503: {
        "model": ErrorDetail,
        "description": "The credential store or the rate limiter is unavailable",
        "headers": RETRY_AFTER,
    },
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entries of ``statuses``, for a route or a router."""
    return {status: ERROR_ANSWERS[status] for status in statuses}


PROTECTED = errors(401, 403, 429, 503)
"""What every authenticated, rate-limited route can answer before its own code runs."""


def document_body_limit(app: FastAPI) -> None:
    """Declare the 413 on every operation that takes a body.

    The edge layer (``app.middleware.edge``) caps the body of every request,
    below any route, so no route declares it: the document says it here, once,
    for every operation with a body, whichever router it comes from.
    """
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()  # FastAPI caches it in app.openapi_schema: completed once, here
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.setdefault(ErrorDetail.__name__, ErrorDetail.model_json_schema())
            body_too_large = {
                "description": ERROR_ANSWERS[413]["description"],
                "content": {"application/json": {"schema": {"$ref": _ref(ErrorDetail)}}},
            }
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    if "requestBody" in operation:
                        operation["responses"].setdefault("413", body_too_large)
        return build()

    app.openapi = openapi  # type: ignore[method-assign]


def _ref(model: type[BaseModel]) -> str:
    return f"#/components/schemas/{model.__name__}"


def json_error(status_code: int, detail: str) -> JSONResponse:
    """An error in the API's ``{"detail": ...}`` shape, for code outside FastAPI's handlers."""
    return JSONResponse(status_code=status_code, content={"detail": detail})
