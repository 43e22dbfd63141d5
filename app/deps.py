"""Every dependency a route can ask for, as ``Annotated`` aliases; the only reader of ``app.state``.

A route's signature says who may call it and what it works with::

    async def predict(features: HousingFeatures, models: Models, caller: RequirePredict)

Every dependency here is ``async def`` or a plain attribute read: a sync
``def`` dependency would hop through AnyIO's thread pool on every request (a
py-spy profile of the old path had a quarter of its samples in
``WorkerThread.run``). Authentication and the client's rate limit run once,
before the body is read, in ``app.guard.GuardedRoute``; the aliases below only
check what it found.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

from fastapi import Depends, Request

from app.account.service import AccountService
from app.admin.service import Actor, AdminService
from app.client_ip import client_ip
from app.errors import ApiError
from app.middleware.edge import PRINCIPAL_STATE
from app.ml.registry import ModelRegistry
from app.predlog.recorder import PredictionRecorder
from app.predlog.writer import PredictionLog
from app.ratelimit.limiter import Limiter
from app.ratelimit.throttle import LoginThrottle
from app.services import Services
from app.settings import Settings
from auth.context import AuthContext
from auth.dependencies import api_key_scheme, bearer_scheme, challenge
from auth.principal import SCOPE_ADMIN, SCOPE_METRICS, SCOPE_PREDICT, Principal


def services_of(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_services(request: Request) -> Services:
    return services_of(request)


async def get_settings(request: Request) -> Settings:
    return services_of(request).settings


async def get_auth(request: Request) -> AuthContext:
    return services_of(request).auth


async def get_models(request: Request) -> ModelRegistry:
    return services_of(request).models


async def get_limiter(request: Request) -> Limiter:
    return services_of(request).limiter


async def get_throttle(request: Request) -> LoginThrottle:
    return services_of(request).throttle


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
AuthDep = Annotated[AuthContext, Depends(get_auth)]
Models = Annotated[ModelRegistry, Depends(get_models)]
LimiterDep = Annotated[Limiter, Depends(get_limiter)]
Throttle = Annotated[LoginThrottle, Depends(get_throttle)]


def forbidden(required: frozenset[str], detail: str) -> ApiError:
    return ApiError(
        403,
        detail,
        headers={
            "WWW-Authenticate": challenge("insufficient_scope", scope=" ".join(sorted(required)))
        },
    )


class Authenticator:
    """Requires the caller ``GuardedRoute`` authenticated to hold one of ``any_of`` scopes.

    The two scheme parameters only declare the credentials in the OpenAPI
    document (Swagger UI's Authorize dialog offers both); they parse nothing
    that matters.
    """

    def __init__(self, any_of: Iterable[str] | None) -> None:
        self.any_of = None if any_of is None else frozenset(any_of)

    async def __call__(
        self,
        request: Request,
        _bearer: Annotated[str | None, Depends(bearer_scheme)],
        _api_key: Annotated[str | None, Depends(api_key_scheme)],
    ) -> Principal:
        principal: Principal | None = getattr(request.state, PRINCIPAL_STATE, None)
        if principal is None:  # a route not behind GuardedRoute: a wiring bug, never a pass
            raise RuntimeError(f"{request.url.path} is not a GuardedRoute")
        if self.any_of is not None and not principal.scopes & self.any_of:
            raise forbidden(self.any_of, f"Missing scope: {' or '.join(sorted(self.any_of))}")
        return principal


Authenticated = Annotated[Principal, Depends(Authenticator(None))]
RequirePredict = Annotated[Principal, Depends(Authenticator({SCOPE_PREDICT}))]
RequireAdmin = Annotated[Principal, Depends(Authenticator({SCOPE_ADMIN}))]
RequireMetrics = Annotated[Principal, Depends(Authenticator({SCOPE_ADMIN, SCOPE_METRICS}))]


async def get_recorder(request: Request) -> PredictionRecorder:
    """Binds the prediction log to this request's caller and id (both set before the body)."""
    principal: Principal = getattr(request.state, PRINCIPAL_STATE)
    return PredictionRecorder(
        log=services_of(request).predictions,
        principal=principal.rate_limit_key,
        request_id=request.scope.get("request_id", ""),
        state=request.scope.setdefault("state", {}),
    )


async def get_prediction_log(request: Request) -> PredictionLog:
    return services_of(request).predictions


Recorder = Annotated[PredictionRecorder, Depends(get_recorder)]
PredictionLogDep = Annotated[PredictionLog, Depends(get_prediction_log)]


async def user_token_caller(principal: Authenticated) -> Principal:
    """The caller, when it is a user with their own access token (not an API key)."""
    if principal.kind != "user":
        raise ApiError(403, "only a user's own access token may do this, not an API key")
    return principal


RequireUserToken = Annotated[Principal, Depends(user_token_caller)]


async def get_account_service(
    request: Request, auth: AuthDep, throttle: Throttle, caller: RequireUserToken
) -> AccountService:
    return AccountService(auth, throttle, caller, client_ip(request))


async def get_admin_service(
    request: Request, auth: AuthDep, settings: SettingsDep, admin: RequireAdmin
) -> AdminService:
    """The admin actions, done as the caller from its address (for the audit trail)."""
    actor = Actor(principal=admin, client_ip=client_ip(request))
    return AdminService(auth, actor, settings.default_rate_limit)


Account = Annotated[AccountService, Depends(get_account_service)]
Admin = Annotated[AdminService, Depends(get_admin_service)]
