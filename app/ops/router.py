"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from app.metrics import exposition
from app.ratelimit.dependencies import enforce_client_limit
from app.readiness import check_readiness
from app.responses import PROTECTED
from auth.dependencies import RequireAdmin

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: every model loaded and every backing store answering",
    responses={503: {"description": "Not ready; the body names what failed"}},
)
async def readyz(request: Request) -> JSONResponse:
    checks = await check_readiness(request.app)
    ready = all(checks.values())
    return JSONResponse(
        status_code=200 if ready else 503,
        content={"status": "ready" if ready else "not ready", "checks": checks},
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics, aggregated over every worker (admin)",
    dependencies=[Depends(enforce_client_limit)],
    responses={200: {"content": {"text/plain": {}}}, **PROTECTED},
)
async def metrics(_: RequireAdmin) -> Response:
    body, content_type = exposition()
    return Response(body, media_type=content_type)
