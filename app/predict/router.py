"""The inference endpoints: thin, one route per version and shape.

No ``from __future__ import annotations`` here: the routes are defined in a
function, and FastAPI must see their body types as objects, not as names.
"""

from fastapi import APIRouter

from app.deps import Models, Recorder, RequirePredict
from app.guard import GuardedRoute
from app.predict import service
from app.predict.schemas import (
    BatchPrediction,
    BatchV1,
    BatchV2,
    HousingFeatures,
    HousingFeaturesV2,
    ModelInfo,
    Prediction,
)
from app.responses import PROTECTED
from auth.principal import SCOPE_ADMIN

router = APIRouter(tags=["predict"], route_class=GuardedRoute, responses=PROTECTED)


def _add_version(version: str, features_type: type, batch_type: type) -> None:
    role = "champion" if version == "v1" else "challenger"

    @router.post(f"/{version}/predict", summary=f"Predict one price ({role})")
    async def predict(
        features: features_type,  # type: ignore[valid-type]
        models: Models,
        caller: RequirePredict,
        recorder: Recorder,
    ) -> Prediction:
        return service.predict_one(models[version], features, recorder)

    @router.post(f"/{version}/predict/batch", summary=f"Predict 1 to 1000 prices ({role})")
    async def predict_batch(
        batch: batch_type,  # type: ignore[valid-type]
        models: Models,
        caller: RequirePredict,
        recorder: Recorder,
    ) -> BatchPrediction:
        instances = batch.instances  # type: ignore[attr-defined]
        return service.predict_batch(models[version], instances, recorder)

    @router.get(
        f"/{version}/model",
        summary=f"Describe the {role} model",
        response_model_exclude_none=True,
    )
    async def model_info(models: Models, caller: RequirePredict) -> ModelInfo:
        return service.describe(models, version, with_libraries=SCOPE_ADMIN in caller.scopes)


_add_version("v1", HousingFeatures, BatchV1)
_add_version("v2", HousingFeaturesV2, BatchV2)
