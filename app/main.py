"""create_app(): settings → lifespan → middleware → routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from threadpoolctl import threadpool_limits

from app.admin.router import router as admin_router
from app.backends import open_backends
from app.client_ip import install_client_ip
from app.docs import install_docs
from app.errors import install_error_handlers
from app.logging import configure_logging
from app.metrics import MetricsMiddleware
from app.middleware.body_limit import BodyLimitMiddleware
from app.middleware.request_id import RequestIdMiddleware
from app.ml.registry import ModelRegistry
from app.ops.router import router as ops_router
from app.predict.router import router as predict_router
from app.ratelimit.dependencies import install_rate_limit_errors
from app.ratelimit.headers import RateLimitHeadersMiddleware
from app.readiness import register_probe
from app.settings import Settings
from app.tokens.router import install_token_errors
from app.tokens.router import router as tokens_router

API_VERSION = "1.0.0"


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    # One BLAS/OpenMP thread per process: workers are the unit of parallelism.
    threadpool_limits(limits=1)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    app.state.models = ModelRegistry.load(settings.models_dir)

    async def models_loaded() -> bool:
        return bool(app.state.models.versions)

    register_probe(app, "models", models_loaded)
    async with AsyncExitStack() as stack:
        await open_backends(app, settings, stack)
        yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="Housing Price API",
        version=API_VERSION,
        summary="Predicts 1987 Windsor house prices; champion v1, challenger v2.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_rate_limit_errors(app)
    install_token_errors(app)
    app.add_middleware(RateLimitHeadersMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(MetricsMiddleware)
    install_client_ip(app, settings)  # last added, so it runs first
    app.include_router(ops_router)
    app.include_router(tokens_router)
    app.include_router(predict_router)
    app.include_router(admin_router)
    install_docs(app)
    return app
