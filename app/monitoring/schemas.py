"""The drift answer's wire shape (``GET /admin/drift/{version}``)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FeatureDriftOut(BaseModel):
    name: str
    psi: float | None = Field(
        description="Population stability index against the training data; "
        "null when no prediction was logged yet"
    )
    drifted: bool = Field(description="PSI above 0.2")


class DriftReport(BaseModel):
    version: str
    window_size: int = Field(description="Logged predictions compared (at most the window asked)")
    features: list[FeatureDriftOut]
