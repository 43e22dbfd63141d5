"""``GET /admin/drift/{version}``: is live traffic still like the training data?"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.deps import Models, PredictionLogDep, RequireAdmin, SettingsDep
from app.errors import ApiError
from app.guard import GuardedRoute
from app.monitoring.schemas import DriftReport, FeatureDriftOut
from app.monitoring.service import drift_of
from app.responses import PROTECTED, errors

router = APIRouter(prefix="/admin", tags=["admin"], route_class=GuardedRoute, responses=PROTECTED)


@router.get(
    "/drift/{version}",
    summary="Drift of live traffic from the training data, per feature (PSI)",
    responses=errors(404),
)
async def drift(
    version: Annotated[str, Path(max_length=16)],
    models: Models,
    log: PredictionLogDep,
    settings: SettingsDep,
    _: RequireAdmin,
    window: Annotated[
        int | None,
        Query(ge=1, le=100_000, description="How many of the newest logged predictions"),
    ] = None,
) -> DriftReport:
    if version not in models:
        raise ApiError(404, f"unknown model version {version!r}")
    size, features = await drift_of(
        log.sink, models[version].manifest, window or settings.drift_window
    )
    return DriftReport(
        version=version,
        window_size=size,
        features=[
            FeatureDriftOut(name=item.name, psi=item.psi, drifted=item.drifted) for item in features
        ],
    )
