"""What /readyz checks: named probes, each bounded in time, run concurrently."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

Probe = Callable[[], Awaitable[bool]]
PROBE_TIMEOUT_SECONDS = 1.0


async def _run(probe: Probe) -> bool:
    try:
        return bool(await asyncio.wait_for(probe(), PROBE_TIMEOUT_SECONDS))
    except Exception:
        return False


async def check_readiness(probes: Mapping[str, Probe]) -> dict[str, bool]:
    if not probes:
        return {"started": False}
    results = await asyncio.gather(*(_run(probe) for probe in probes.values()))
    return dict(zip(probes, results, strict=True))
