"""The FastAPI dependencies, in a small real app over a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from app.deps import Authenticated, RequireAdmin, RequirePredict
from app.errors import install_error_handlers
from app.guard import GuardedRoute
from app.ml.registry import ModelRegistry
from app.predlog.sinks import SqliteSink
from app.predlog.writer import PredictionLog
from app.ratelimit.failures import AuthFailureGuard
from app.ratelimit.limiter import Limiter
from app.ratelimit.throttle import LoginThrottle
from app.services import Services
from auth.context import AuthContext
from auth.principal import Principal
from auth.rate_limits import parse_rate_limit
from auth.store.base import AccessTokenFacts, ApiKeyRecord
from auth.store.sqlite import SqliteCredentialStore
from tests.app.conftest import make_settings
from tests.auth.conftest import build_context

pytestmark = pytest.mark.anyio

PASSWORD = "long enough passphrase"
CHALLENGE = 'Bearer realm="housing-api"'
INVALID_TOKEN = 'Bearer realm="housing-api", error="invalid_token"'


class CountingStore(SqliteCredentialStore):
    """The real SQLite store, counting credential lookups."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.lookups = 0

    async def find_key_by_digest(self, secret_digest: str) -> ApiKeyRecord | None:
        self.lookups += 1
        return await super().find_key_by_digest(secret_digest)

    async def access_token_facts(self, jti: str, username: str, family_id: str) -> AccessTokenFacts:
        self.lookups += 1
        return await super().access_token_facts(jti, username, family_id)


def _describe(principal: Principal) -> dict[str, Any]:
    return {
        "subject": principal.subject,
        "kind": principal.kind,
        "scopes": sorted(principal.scopes),
        "rate_limit": principal.rate_limit,
    }


def make_app(context: AuthContext, tmp_path: Path) -> FastAPI:
    """A bare app with the real guard and aliases, on a store the test can count lookups of."""
    app = FastAPI()
    install_error_handlers(app)
    limiter = Limiter()
    generous = parse_rate_limit("1000/minute")
    app.state.services = Services(
        settings=make_settings(tmp_path),
        auth=context,
        limiter=limiter,
        throttle=LoginThrottle(
            limiter, per_client_and_user=generous, per_user=generous, per_client=generous
        ),
        auth_failures=AuthFailureGuard(limiter, generous),
        models=ModelRegistry({}),
        predictions=PredictionLog(SqliteSink(tmp_path / "predictions.sqlite3", 100), 10),
    )
    router = APIRouter(route_class=GuardedRoute)

    @router.get("/whoami")
    async def whoami(principal: Authenticated) -> dict[str, Any]:
        return _describe(principal)

    @router.post("/v1/predict")
    async def predict(principal: RequirePredict) -> dict[str, Any]:
        return _describe(principal)

    @router.get("/admin/keys")
    async def admin(principal: RequireAdmin) -> dict[str, Any]:
        return _describe(principal)

    @router.get("/admin/everything")
    async def everything(
        admin: RequireAdmin, predictor: RequirePredict, caller: Authenticated
    ) -> dict[str, Any]:
        return _describe(caller)

    app.include_router(router)
    return app


@pytest.fixture
def store(tmp_path: Path) -> CountingStore:
    return CountingStore(tmp_path / "auth.sqlite3")


@pytest.fixture
async def context(store: CountingStore) -> AsyncIterator[AuthContext]:
    built = build_context(store)
    built.start()
    await built.users.create("admin", PASSWORD, ["admin", "predict"])
    await built.users.create("predictor", PASSWORD, ["predict"])
    yield built
    await built.close()


@pytest.fixture
async def client(context: AuthContext, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app(context, tmp_path))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def bearer(context: AuthContext, username: str) -> dict[str, str]:
    grant = await context.tokens.password_grant(username, PASSWORD)
    return {"Authorization": f"Bearer {grant.access_token}"}


async def api_key(context: AuthContext, scopes: list[str]) -> tuple[str, dict[str, str]]:
    issued = await context.keys.create("test", scopes, "50/minute")
    return issued.record.id, {"X-API-Key": issued.secret}


async def test_no_credential_is_401_with_a_bare_challenge(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/predict")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE
    assert response.json() == {"detail": "Not authenticated"}


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer a.b.c"},
        {"X-API-Key": "hpk_garbage"},
        {"X-API-Key": "hpk_" + "A" * 36},
    ],
    ids=["garbage token", "empty token", "three dots", "short key", "bad checksum"],
)
async def test_garbage_credentials_are_401_invalid_token(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.post("/v1/predict", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN
    assert "detail" in response.json()


async def test_another_auth_scheme_is_treated_as_no_credential(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/predict", headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == CHALLENGE


async def test_a_token_is_accepted(context: AuthContext, client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/predict", headers=await bearer(context, "predictor"))
    assert response.status_code == 200
    assert response.json() == {
        "subject": "predictor",
        "kind": "user",
        "scopes": ["predict"],
        "rate_limit": None,
    }


async def test_a_key_is_accepted(context: AuthContext, client: httpx.AsyncClient) -> None:
    key_id, headers = await api_key(context, ["predict"])
    response = await client.post("/v1/predict", headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "subject": key_id,
        "kind": "key",
        "scopes": ["predict"],
        "rate_limit": "50/minute",
    }


async def test_both_credentials_at_once_are_refused(
    context: AuthContext, client: httpx.AsyncClient
) -> None:
    _, key_headers = await api_key(context, ["predict"])
    headers = {**key_headers, **await bearer(context, "predictor")}
    response = await client.post("/v1/predict", headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_request"' in response.headers["WWW-Authenticate"]


async def test_a_revoked_token_is_401(context: AuthContext, client: httpx.AsyncClient) -> None:
    headers = await bearer(context, "predictor")
    await context.tokens.revoke(headers["Authorization"].removeprefix("Bearer "))
    response = await client.post("/v1/predict", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN


async def test_a_deleted_users_token_is_401(
    context: AuthContext, client: httpx.AsyncClient
) -> None:
    headers = await bearer(context, "predictor")
    await context.users.delete("predictor")
    response = await client.post("/v1/predict", headers=headers)
    assert response.status_code == 401


async def test_an_expired_token_is_401(context: AuthContext, client: httpx.AsyncClient) -> None:
    from datetime import UTC, datetime, timedelta

    predictor = await context.users.get("predictor")
    assert predictor is not None
    stale = context.access_tokens.issue(
        "predictor",
        {"predict"},
        now=datetime.now(UTC) - timedelta(hours=1),
        user_id=predictor.user_id,
    )
    response = await client.post("/v1/predict", headers={"Authorization": f"Bearer {stale.token}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == INVALID_TOKEN


async def test_revoked_and_rotated_keys_are_401(
    context: AuthContext, client: httpx.AsyncClient
) -> None:
    revoked_id, revoked = await api_key(context, ["predict"])
    rotated_id, rotated = await api_key(context, ["predict"])
    await context.keys.revoke(revoked_id)
    fresh = await context.keys.rotate(rotated_id)
    assert fresh is not None
    for headers in (revoked, rotated):
        response = await client.post("/v1/predict", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == INVALID_TOKEN
    response = await client.post("/v1/predict", headers={"X-API-Key": fresh.secret})
    assert response.status_code == 200


async def test_predict_only_token_on_an_admin_route_is_403(
    context: AuthContext, client: httpx.AsyncClient
) -> None:
    response = await client.get("/admin/keys", headers=await bearer(context, "predictor"))
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="housing-api", error="insufficient_scope", scope="admin"'
    )
    assert response.json() == {"detail": "Missing scope: admin"}


async def test_predict_only_key_on_an_admin_route_is_403(
    context: AuthContext, client: httpx.AsyncClient
) -> None:
    _, headers = await api_key(context, ["predict"])
    response = await client.get("/admin/keys", headers=headers)
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


async def test_admin_credentials_pass_admin_routes(
    context: AuthContext, client: httpx.AsyncClient
) -> None:
    _, key_headers = await api_key(context, ["admin"])
    for headers in (await bearer(context, "admin"), key_headers):
        assert (await client.get("/admin/keys", headers=headers)).status_code == 200


async def test_a_token_narrowed_at_login_keeps_its_narrow_scope(
    context: AuthContext, client: httpx.AsyncClient
) -> None:
    grant = await context.tokens.password_grant("admin", PASSWORD, "predict")
    headers = {"Authorization": f"Bearer {grant.access_token}"}
    assert (await client.post("/v1/predict", headers=headers)).status_code == 200
    assert (await client.get("/admin/keys", headers=headers)).status_code == 403


async def test_credentials_are_resolved_once_per_request(
    context: AuthContext, client: httpx.AsyncClient, store: CountingStore
) -> None:
    _, key_headers = await api_key(context, ["admin", "predict"])
    token_headers = await bearer(context, "admin")
    for headers in (key_headers, token_headers):
        before = store.lookups
        response = await client.get("/admin/everything", headers=headers)
        assert response.status_code == 200
        assert store.lookups - before == 1


async def test_openapi_lists_both_security_schemes(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["OAuth2"]["type"] == "oauth2"
    assert schemes["OAuth2"]["flows"]["password"]["tokenUrl"] == "/token"
    assert set(schemes["OAuth2"]["flows"]["password"]["scopes"]) == {"predict", "admin", "metrics"}
    assert schemes["APIKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["APIKey"]["description"],
    }
    security = schema["paths"]["/admin/keys"]["get"]["security"]
    assert {"OAuth2": []} in security
    assert {"APIKey": []} in security
