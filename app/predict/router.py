"""The inference endpoints: thin, one route per version and shape."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from app.ml.registry import ModelRegistry
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
from app.ratelimit.dependencies import enforce_client_limit
from app.responses import PROTECTED
from auth.dependencies import AuthenticatedRoute, RequirePredict
from auth.principal import SCOPE_ADMIN


def get_models(request: Request) -> ModelRegistry:
    return request.app.state.models


Models = Annotated[ModelRegistry, Depends(get_models)]

router = APIRouter(
    tags=["predict"],
    route_class=AuthenticatedRoute,
    dependencies=[Depends(enforce_client_limit)],
    responses=PROTECTED,
)


def _add_version(version: str, features_type: type, batch_type: type) -> None:
    role = "champion" if version == "v1" else "challenger"

    @router.post(f"/{version}/predict", summary=f"Predict one price ({role})")
    async def predict(
        features: features_type,  # type: ignore[valid-type]
        models: Models,
        client: RequirePredict,
    ) -> Prediction:
        return service.predict_one(models[version], features)

    @router.post(f"/{version}/predict/batch", summary=f"Predict 1 to 1000 prices ({role})")
    async def predict_batch(
        batch: batch_type,  # type: ignore[valid-type]
        models: Models,
        client: RequirePredict,
    ) -> BatchPrediction:
        return service.predict_batch(models[version], batch.instances)

    @router.get(
        f"/{version}/model",
        summary=f"Describe the {role} model",
        response_model_exclude_none=True,
    )
    async def model_info(models: Models, client: RequirePredict) -> ModelInfo:
        return service.describe(models, version, with_libraries=SCOPE_ADMIN in client.scopes)


_add_version("v1", HousingFeatures, BatchV1)
_add_version("v2", HousingFeaturesV2, BatchV2)
