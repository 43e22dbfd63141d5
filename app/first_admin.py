"""The first admin (FIRST_ADMIN_*), created at start-up without making start-up depend on it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack

from app.settings import Settings
from auth.bootstrap import ensure_first_admin
from auth.context import AuthContext
from auth.store import STORE_UNAVAILABLE

logger = logging.getLogger(__name__)

BOOTSTRAP_RETRY_SECONDS = 2.0


async def ensure_first_admin_soon(
    auth: AuthContext, settings: Settings, stack: AsyncExitStack
) -> None:
    """Ensure the first admin; if the store is down, keep trying in the background.

    Start-up must not depend on the store answering: a worker that fails to
    boot makes Gunicorn stop the whole instance, so a Redis blip during a
    worker restart would take every worker down. ``/readyz`` reports the store.
    """
    if not (settings.first_admin_username and settings.first_admin_password):
        with contextlib.suppress(*STORE_UNAVAILABLE):
            if await auth.users.count() == 0:
                logger.warning(
                    "no user exists: set FIRST_ADMIN_USERNAME and FIRST_ADMIN_PASSWORD, "
                    "or run `housing-api create-user NAME --scopes admin predict`"
                )
        return
    username = settings.first_admin_username
    password = settings.first_admin_password.get_secret_value()
    try:
        await _ensure_admin(auth, username, password)
    except STORE_UNAVAILABLE as exc:
        logger.warning("first admin not ensured yet (%s); retrying", type(exc).__name__)
        task = asyncio.create_task(_keep_trying(auth, username, password))
        stack.push_async_callback(_cancel, task)


async def _ensure_admin(auth: AuthContext, username: str, password: str) -> None:
    outcome = await ensure_first_admin(auth, username, password)
    if outcome.created:
        logger.info("created the first admin", extra={"fields": {"username": username}})
    elif outcome.ignored is not None:
        logger.warning(
            "FIRST_ADMIN_USERNAME and FIRST_ADMIN_PASSWORD are ignored: %s; manage users with "
            "an admin credential or `housing-api create-user`",
            outcome.ignored,
        )


async def _keep_trying(auth: AuthContext, username: str, password: str) -> None:
    while True:
        await asyncio.sleep(BOOTSTRAP_RETRY_SECONDS)
        try:
            await _ensure_admin(auth, username, password)
        except STORE_UNAVAILABLE:
            continue
        return


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
