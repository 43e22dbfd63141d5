"""The shared backends of one worker process, built in the lifespan (after any fork).

Redis client, credential store, auth context, rate limiter, throttles. With
``REDIS_URL`` the store and the limits live in Redis and every worker and host
agrees; without it the store is a SQLite file under ``STATE_DIR`` and limits
are in-process.
"""

from __future__ import annotations

from contextlib import AsyncExitStack

from app import dev_secrets
from app.first_admin import ensure_first_admin_soon
from app.ml.registry import ModelRegistry
from app.model_reload import ModelReloader
from app.predlog.sinks import PredictionSink, RedisStreamSink, SqliteSink
from app.predlog.writer import PredictionLog
from app.ratelimit.failures import AuthFailureGuard
from app.ratelimit.limiter import Limiter
from app.ratelimit.throttle import LoginThrottle
from app.redis_client import redis_client
from app.services import Services
from app.settings import Settings
from auth.context import AuthContext
from auth.rate_limits import parse_rate_limit
from auth.store import open_store

SQLITE_FILE = "credentials.sqlite3"
PREDICTION_LOG_FILE = "predictions.sqlite3"


def _secrets(settings: Settings) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The configured secrets; outside production, generated ones fill any gap."""
    signing_keys, peppers = settings.signing_keys, settings.peppers
    if settings.env != "production" and (not signing_keys or not peppers):
        generated = dev_secrets.load_or_create(settings.state_dir)
        kid, _, secret = generated["jwt_signing_key"].partition(":")
        signing_keys = signing_keys or [(kid, secret)]
        peppers = peppers or [("", generated["api_key_pepper"])]
    if not peppers or not signing_keys:  # Settings already refuses this in production
        raise RuntimeError("JWT_SIGNING_KEYS and API_KEY_PEPPER(S) are required")
    return signing_keys, peppers


async def open_auth(settings: Settings, stack: AsyncExitStack) -> AuthContext:
    """The credential store and services, closed when ``stack`` unwinds."""
    client = None
    if settings.redis_url:
        client = redis_client(settings.redis_url, settings.redis_timeout_seconds)
        stack.push_async_callback(client.aclose)
    store = open_store(client, settings.state_dir / SQLITE_FILE)
    signing_keys, peppers = _secrets(settings)
    auth = AuthContext(
        store,
        signing_keys=signing_keys,
        algorithm=settings.jwt_algorithm,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        access_token_ttl_seconds=settings.access_token_ttl_seconds,
        refresh_token_ttl_seconds=settings.refresh_token_ttl_seconds,
        refresh_family_max_seconds=settings.refresh_family_max_seconds,
        api_key_pepper=peppers,
        password_min_length=settings.password_min_length,
        cache_stale_seconds=settings.auth_cache_stale_seconds,
    )
    stack.push_async_callback(auth.close)
    return auth


def prediction_sink(settings: Settings) -> PredictionSink:
    """Where the prediction log lives: the service's Redis, else SQLite under ``STATE_DIR``."""
    if settings.redis_url:
        client = redis_client(settings.redis_url, settings.redis_timeout_seconds)
        return RedisStreamSink(client, settings.prediction_log_max_entries, owns_client=True)
    return SqliteSink(settings.state_dir / PREDICTION_LOG_FILE, settings.prediction_log_max_entries)


async def open_prediction_log(settings: Settings, stack: AsyncExitStack) -> PredictionLog:
    log = PredictionLog(prediction_sink(settings), settings.prediction_log_queue_size)
    log.start()
    stack.push_async_callback(log.close)
    return log


async def open_services(
    settings: Settings, models: ModelRegistry, stack: AsyncExitStack
) -> Services:
    auth = await open_auth(settings, stack)
    auth.start()  # the server's background work: the change feed, writing key uses
    limiter = Limiter(
        redis_url=settings.redis_url,
        timeout_seconds=settings.redis_timeout_seconds,
        outage_policy=settings.rate_limit_outage_policy,
    )
    stack.push_async_callback(limiter.aclose)
    per_client = parse_rate_limit(settings.auth_failure_limit)
    services = Services(
        settings=settings,
        auth=auth,
        limiter=limiter,
        throttle=LoginThrottle(
            limiter,
            per_client_and_user=parse_rate_limit(settings.login_failure_limit),
            per_user=parse_rate_limit(settings.login_username_failure_limit),
            per_client=per_client,
        ),
        auth_failures=AuthFailureGuard(limiter, per_client),
        models=models,
        predictions=await open_prediction_log(settings, stack),
    )

    async def models_loaded() -> bool:
        return bool(services.models.versions)

    services.probes.update(
        models=models_loaded, credential_store=auth.store.ping, rate_limiter=limiter.ping
    )
    reloader = ModelReloader(
        services, settings.state_dir, settings.models_dir, settings.model_reload_poll_seconds
    )
    reloader.start()
    stack.push_async_callback(reloader.close)
    await ensure_first_admin_soon(auth, settings, stack)
    return services
