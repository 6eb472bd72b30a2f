"""Request and response bodies of the alert API (they make the OpenAPI document at /openapi.json)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Status = Literal["open", "acknowledged", "resolved", "closed"]


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=500, description="Optional note, kept in the alert history")


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(..., min_length=1, max_length=500, description="Why the alert is closed (required)")

    @field_validator("reason")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reason must not be blank")
        return value.strip()


class AlertOut(BaseModel):
    alert_id: str
    entity: str = Field(description="Entity reference `<type>:<pseudonymous id>`")
    building: str | None
    level: str
    assignee: str | None
    rules: list[str]
    score: float | None
    raised_at: str
    status: Status
    updated_at: str


class HistoryOut(BaseModel):
    id: int
    action: str
    level: str
    actor: str
    at: str
    detail: dict[str, Any] | None


class DeliveryOut(BaseModel):
    kind: str
    leader: str
    channel: str
    status: str
    attempts: int
    sent_at: str | None
    last_error: str | None


class AlertDetailOut(AlertOut):
    history: list[HistoryOut]
    deliveries: list[DeliveryOut]


class AlertListOut(BaseModel):
    alerts: list[AlertOut]


class ErrorOut(BaseModel):
    detail: str
