"""Liveness, readiness and metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app.deps import RequireMetrics, ServicesDep
from app.guard import GuardedRoute
from app.metrics import exposition
from app.monitoring.metrics import model_exposition
from app.readiness import check_readiness
from app.responses import PROTECTED

router = APIRouter(tags=["operations"])
metrics_router = APIRouter(tags=["operations"], route_class=GuardedRoute, responses=PROTECTED)


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: every model loaded and every backing store answering",
    responses={503: {"description": "Not ready; the body names what failed"}},
)
async def readyz(services: ServicesDep) -> JSONResponse:
    checks = await check_readiness(services.probes)
    ready = all(checks.values())
    return JSONResponse(
        status_code=200 if ready else 503,
        content={"status": "ready" if ready else "not ready", "checks": checks},
    )


@metrics_router.get(
    "/metrics",
    summary="Prometheus metrics, aggregated over every worker (admin or metrics scope)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(_: RequireMetrics, services: ServicesDep) -> Response:
    body, content_type = exposition()
    models = await model_exposition(
        services.models, services.predictions.sink, services.settings.drift_window
    )
    return Response(body + models, media_type=content_type)
