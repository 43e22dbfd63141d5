"""Wire type of the account endpoint."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.admin.schemas import NewPassword


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: NewPassword
