"""What /readyz checks: registered probes, each bounded in time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import FastAPI

Probe = Callable[[], Awaitable[bool]]
PROBE_TIMEOUT_SECONDS = 1.0


def register_probe(app: FastAPI, name: str, probe: Probe) -> None:
    if not hasattr(app.state, "probes"):
        app.state.probes = {}
    app.state.probes[name] = probe


async def _run(probe: Probe) -> bool:
    try:
        return bool(await asyncio.wait_for(probe(), PROBE_TIMEOUT_SECONDS))
    except Exception:
        return False


async def check_readiness(app: FastAPI) -> dict[str, bool]:
    probes: dict[str, Probe] = getattr(app.state, "probes", {})
    if not probes:
        return {"started": False}
    results = await asyncio.gather(*(_run(probe) for probe in probes.values()))
    return dict(zip(probes, results, strict=True))
