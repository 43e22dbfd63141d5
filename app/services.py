"""Everything one worker process serves with, built once in the lifespan (after any fork).

Routes never reach into ``app.state`` themselves: ``app.deps`` reads this one
object from it and hands out its parts as dependencies.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.ml.registry import ModelRegistry
from app.predlog.writer import PredictionLog
from app.ratelimit.failures import AuthFailureGuard
from app.ratelimit.limiter import Limiter
from app.ratelimit.throttle import LoginThrottle
from app.readiness import Probe
from app.settings import Settings
from auth.context import AuthContext


@dataclass
class Services:
    settings: Settings
    auth: AuthContext
    limiter: Limiter
    throttle: LoginThrottle
    auth_failures: AuthFailureGuard
    models: ModelRegistry
    """Replaced whole (one assignment) when models are reloaded; requests keep the one they got."""
    predictions: PredictionLog
    probes: dict[str, Probe] = field(default_factory=dict)
