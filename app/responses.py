"""Error answers shared by every protected route, declared once for the OpenAPI document."""

from __future__ import annotations

from typing import Any

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

PROTECTED: dict[int | str, dict[str, Any]] = {
    401: {
        "model": ErrorDetail,
        "description": "Missing, malformed, expired, revoked or forged credential",
        "headers": {"WWW-Authenticate": _header('Bearer realm="housing-api", ...')},
    },
    403: {"model": ErrorDetail, "description": "The credential lacks the scope this route needs"},
    429: {
        "model": ErrorDetail,
        "description": "Rate limit exceeded",
        "headers": {"Retry-After": _header("Seconds to wait"), **RATE_LIMIT_HEADERS},
    },
    503: {
        "model": ErrorDetail,
        "description": "The credential store or the rate limiter is unavailable",
        "headers": {"Retry-After": _header("Seconds to wait")},
    },
}


def json_error(status_code: int, detail: str) -> JSONResponse:
    """An error in the API's ``{"detail": ...}`` shape, for code outside FastAPI's handlers."""
    return JSONResponse(status_code=status_code, content={"detail": detail})
