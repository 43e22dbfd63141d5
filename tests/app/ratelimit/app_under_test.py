"""A small real app wired the way the product wires the rate-limit pieces.

Routes are stand-ins for the product's (the limiter does not care what a
route computes); authentication is the real ``auth`` package over a real
SQLite store.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from app.client_ip import client_ip, install_client_ip
from app.ratelimit.dependencies import (
    enforce_anonymous_limit,
    enforce_client_limit,
    get_login_throttle,
    install_rate_limit_errors,
    rate_limit_exceeded,
)
from app.ratelimit.headers import RateLimitHeadersMiddleware
from app.ratelimit.limiter import Limiter
from app.ratelimit.throttle import LOGIN_POLICY, LoginThrottle
from app.settings import Settings
from auth.context import AuthContext
from auth.errors import InvalidGrant
from auth.passwords import PasswordHasher
from auth.store.sqlite import SqliteCredentialStore

PASSWORD = "correct horse battery staple"


def auth_context(state_dir: Path) -> AuthContext:
    """The real credential services on a SQLite file, argon2 at its cheapest for speed."""
    return AuthContext(
        SqliteCredentialStore(state_dir / "auth.sqlite3"),
        signing_keys=[("test", secrets.token_urlsafe(48))],
        algorithm="HS256",
        issuer="housing-api-test",
        audience="housing-api-test",
        access_token_ttl_seconds=900,
        refresh_token_ttl_seconds=86_400,
        api_key_pepper=secrets.token_hex(32),
        password_hasher=PasswordHasher(time_cost=1, memory_cost_kib=8, parallelism=1),
    )


def build_app(limiter: Limiter, settings: Settings, auth: AuthContext) -> FastAPI:
    app = FastAPI()
    app.state.limiter = limiter
    app.state.login_throttle = LoginThrottle(limiter, settings.login_failure_limit)
    app.state.settings = settings
    app.state.auth = auth
    install_rate_limit_errors(app)
    app.add_middleware(RateLimitHeadersMiddleware)
    install_client_ip(app, settings)

    limited = APIRouter(dependencies=[Depends(enforce_client_limit)])

    @limited.post("/v1/predict")
    async def predict() -> dict[str, float]:
        return {"predicted_price": 1.0}

    @limited.delete("/admin/keys/{key_id}", status_code=204)
    async def delete_key(key_id: str) -> Response:
        return Response(status_code=204)

    @limited.get("/admin/keys/{key_id}")
    async def get_key(key_id: str) -> dict[str, str]:
        raise HTTPException(status_code=404, detail="no such key")

    anonymous = APIRouter(dependencies=[Depends(enforce_anonymous_limit)])

    @anonymous.post("/token")
    async def token(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        throttle: Annotated[LoginThrottle, Depends(get_login_throttle)],
    ) -> JSONResponse:
        ip = client_ip(request)
        decision = await throttle.check(ip, username)
        if not decision.allowed:
            raise rate_limit_exceeded(decision, LOGIN_POLICY)
        try:
            grant = await auth.tokens.password_grant(username, password)
        except InvalidGrant as exc:
            await throttle.record_failure(ip, username)
            return JSONResponse(
                status_code=400,
                content={"error": exc.error, "error_description": exc.description},
            )
        return JSONResponse({"access_token": grant.access_token, "token_type": "bearer"})

    app.include_router(limited)
    app.include_router(anonymous)
    return app
