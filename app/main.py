"""create_app(): settings → lifespan → middleware → routers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from threadpoolctl import threadpool_limits

from app.account.router import router as account_router
from app.admin.router import router as admin_router
from app.backends import open_services
from app.client_ip import install_client_ip
from app.docs import install_docs
from app.errors import install_error_handlers
from app.logging import configure_logging
from app.middleware.edge import EdgeMiddleware
from app.ml.registry import ModelRegistry
from app.monitoring.router import router as monitoring_router
from app.ops.router import metrics_router
from app.ops.router import router as ops_router
from app.predict.router import router as predict_router
from app.responses import document_body_limit
from app.settings import Settings
from app.tokens.router import router as tokens_router

API_VERSION = "1.0.0"


def lifespan_for(settings: Settings) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One BLAS/OpenMP thread per process: workers are the unit of parallelism.
        threadpool_limits(limits=1)
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        models = ModelRegistry.load(settings.models_dir)
        async with AsyncExitStack() as stack:
            app.state.services = await open_services(settings, models, stack)
            yield

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings.log_level, settings.log_style)
    app = FastAPI(
        title="Housing Price API",
        version=API_VERSION,
        summary="Predicts 1987 Windsor house prices; champion v1, challenger v2.",
        lifespan=lifespan_for(settings),
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.serves_docs else None,
        # A trailing-slash redirect would be built from the request's Host header,
        # which a client chooses: /v1/predict/ is a 404, never a 307 to elsewhere.
        redirect_slashes=False,
    )
    install_error_handlers(app)
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.max_request_body_bytes)
    install_client_ip(app, settings)  # last added, so it runs first
    app.include_router(ops_router)
    app.include_router(metrics_router)
    app.include_router(tokens_router)
    app.include_router(predict_router)
    app.include_router(account_router)
    app.include_router(admin_router)
    app.include_router(monitoring_router)
    document_body_limit(app)
    if settings.serves_docs:
        install_docs(app)
    return app
