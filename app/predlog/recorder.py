"""What a prediction route hands its answers to: the log, and the request's own log line."""

from __future__ import annotations

import time
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.middleware.edge import MODEL_VERSION_STATE
from app.ml.registry import LoadedModel
from app.predlog.record import PredictionEvent
from app.predlog.writer import PredictionLog


@dataclass(slots=True)
class PredictionRecorder:
    log: PredictionLog
    principal: str
    request_id: str
    state: MutableMapping[str, Any]

    def record(
        self, model: LoadedModel, rows: Sequence[Sequence[float]], prices: Sequence[float]
    ) -> None:
        self.state[MODEL_VERSION_STATE] = model.version
        self.log.offer(
            PredictionEvent(
                version=model.version,
                model_sha256=model.manifest.sha256,
                rows=rows,
                prices=prices,
                at=time.time(),
                principal=self.principal,
                request_id=self.request_id,
            )
        )
