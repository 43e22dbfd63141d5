"""Each worker's side of ``housing-api reload``: watch the request, swap the models in.

Polling a small file every ``MODEL_RELOAD_POLL_SECONDS`` works the same for
``make run`` (one process) and every Gunicorn worker of ``make stack``, with
no signal plumbing and no master involved; a worker Gunicorn starts later
loads whatever is on disk anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from app.metrics import MODEL_RELOADS
from app.ml.registry import ModelRegistry
from app.ml.reload_request import ReloadRequest, read_request, shas
from app.services import Services

logger = logging.getLogger(__name__)


class ModelReloader:
    def __init__(self, services: Services, state_dir: Path, models_dir: Path, poll: float) -> None:
        self._services = services
        self._state_dir = state_dir
        self._models_dir = models_dir
        self._poll = poll
        # A request older than this worker was already on disk when it loaded.
        self._seen = read_request(state_dir)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="model-reloader")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def check(self) -> bool:
        """Act on a new request, if any; ``True`` when new models were swapped in."""
        text = read_request(self._state_dir)
        if text is None or text == self._seen:
            return False
        self._seen = text
        try:
            request = ReloadRequest.parse(text)
            registry = await asyncio.to_thread(ModelRegistry.load, self._models_dir)
        except Exception as error:
            MODEL_RELOADS.labels("refused").inc()
            logger.error("model reload refused, the current models keep serving: %s", error)
            return False
        loaded = shas(registry)
        if loaded != request.sha256:
            MODEL_RELOADS.labels("refused").inc()
            logger.error(
                "model reload refused: the artifacts changed since the reload was requested "
                "(requested %s, found %s); the current models keep serving",
                request.sha256,
                loaded,
            )
            return False
        self._services.models = registry
        MODEL_RELOADS.labels("done").inc()
        logger.info("models reloaded", extra={"fields": {"sha256": loaded}})
        return True

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            try:
                await self.check()
            except Exception:
                logger.exception("model reload check failed")
