"""Request and response bodies of the alert API (they make the OpenAPI document at /openapi.json)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from pipeline.api.guard import bad_str

Status = Literal["open", "acknowledged", "resolved", "closed"]


def _clean_text(value: str) -> str:
    # NUL and lone surrogates would reach the database (a 500 there): a 422 here instead
    if bad_str(value):
        raise ValueError("text holds NUL or characters that are not valid Unicode")
    return value


Text = Annotated[str, AfterValidator(_clean_text)]


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Text | None = Field(None, max_length=500, description="Optional note, kept in the alert history")


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(..., min_length=1, max_length=500, description="Why the alert is closed (required)")

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
