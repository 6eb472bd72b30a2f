"""Cases, their people's actions, and the meeting's decisions (docs/contract.md §8; migration 0009_cases).

- `cases`: one row per case, as derived from the stored events and alerts (pipeline/cases/derive.py)
  at the latest stored time. Rewritten by the storage writer for the cases a batch touches and by
  every case action, so dashboards read it directly. A brief for an old week does not read it: it
  derives the cases at the week's end (derivation works at any time).
- `case_actions`: append-only, what people did to a case (note, reassign, close) with who and when.
  `text` may name people (a note is free text): the Grafana role may read every column but it.
- `decisions`: the meeting's decisions (研判意见), tied to a case, an owner and a due date.
  `text` and `done_note` are free text as well and are kept from the Grafana role.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.storage.base import Base

CASE_KINDS = ("hazard", "dispute", "alert", "person")
CASE_ACTIONS = ("note", "reassign", "close")
NOTE_KINDS = ("measure", "progress")


class Case(Base):
    __tablename__ = "cases"
    ref: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    state: Mapped[str] = mapped_column(sa.String(16))
    is_open: Mapped[bool] = mapped_column(sa.Boolean)
    owner: Mapped[str | None] = mapped_column(sa.String(64))
    building: Mapped[str | None] = mapped_column(sa.String(64))
    location_id: Mapped[str | None] = mapped_column(sa.String(128))
    entity: Mapped[str | None] = mapped_column(sa.String(200))
    opened_at: Mapped[datetime]
    due: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    last_action_at: Mapped[datetime]

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {CASE_KINDS!r}", name="ck_cases_kind"),
        sa.Index("ix_cases_owner_open", "owner", "is_open"),
        sa.Index("ix_cases_kind_open", "kind", "is_open"),
    )


class CaseAction(Base):
    __tablename__ = "case_actions"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    ref: Mapped[str] = mapped_column(sa.String(200))
    action: Mapped[str] = mapped_column(sa.String(16))
    note_kind: Mapped[str | None] = mapped_column(sa.String(16))
    owner: Mapped[str | None] = mapped_column(sa.String(64))
    actor: Mapped[str] = mapped_column(sa.String(64))
    at: Mapped[datetime]
    text: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.CheckConstraint(f"action IN {CASE_ACTIONS!r}", name="ck_case_actions_action"),
        sa.Index("ix_case_actions_ref_at", "ref", "at"),
        sa.Index("ix_case_actions_at", "at"),
    )


class Decision(Base):
    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    case_ref: Mapped[str] = mapped_column(sa.String(200))
    text: Mapped[str] = mapped_column(sa.Text)
    owner: Mapped[str] = mapped_column(sa.String(64))
    due: Mapped[date] = mapped_column(sa.Date)
    week: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(sa.String(64))
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(sa.String(64))
    done_note: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.Index("ix_decisions_due", "due"),
        sa.Index("ix_decisions_week", "week"),
        sa.Index("ix_decisions_case_ref", "case_ref"),
    )
