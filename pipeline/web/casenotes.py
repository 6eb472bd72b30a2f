"""Notes (处置措施 / 进展) on a case, as the pages show and add them (docs/contract.md §8).

Reads `case_actions` (written by the cases core, pipeline/cases).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from pipeline.alerting.records import aware
from pipeline.configset import ConfigSet
from pipeline.storage.case_tables import CaseAction

ACTIONS = CaseAction.__table__
NOTE_KINDS = {"progress": "进展", "measure": "处置措施"}


@dataclass(frozen=True)
class NoteView:
    at: str
    actor: str
    kind: str
    action: str
    text: str


def notes_of(conn: sa.Connection, ref: str) -> list[Any]:
    return list(conn.execute(sa.select(ACTIONS).where(ACTIONS.c.ref == ref).order_by(ACTIONS.c.at, ACTIONS.c.id)))


def actor_text(actor: str, config: ConfigSet) -> str:
    if actor.startswith("link:"):
        leader = config.assignments.leaders.get(actor[5:])
        return f"{leader.name}（{actor[5:]}，通知链接）" if leader else actor
    return actor


def shown(row: Any, clock, config: ConfigSet) -> NoteView:
    action = {"note": "记录", "reassign": "转办", "close": "结案"}.get(row.action, row.action)
    kind = NOTE_KINDS.get(row.note_kind or "", "")
    if row.action == "reassign" and row.owner:
        leader = config.assignments.leaders.get(row.owner)
        kind = f"转交 {leader.name if leader else row.owner}（{row.owner}）"
    return NoteView(clock.full(aware(row.at)), actor_text(row.actor, config), kind, action, row.text or "")
