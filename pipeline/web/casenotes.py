"""Notes (处置措施 / 进展), 转办 and closings of a case as the pages show them (docs/contract.md §8);
written and read through the cases core (pipeline.cases.actions)."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline import labels
from pipeline.cases.actions import ActionRecord
from pipeline.configset import ConfigSet


@dataclass(frozen=True)
class NoteView:
    at: str
    actor: str
    kind: str
    action: str
    text: str


def actor_text(actor: str, config: ConfigSet) -> str:
    """`link:L01` → 1号楼包保领导（L01，通知链接）; other actors as recorded."""
    if actor.startswith("link:"):
        leader = config.assignments.leaders.get(actor[5:])
        return f"{leader.name}（{actor[5:]}，通知链接）" if leader else actor
    return actor


def shown(record: ActionRecord, clock, config: ConfigSet) -> NoteView:
    kind = labels.label(labels.NOTE_KINDS, record.note_kind)
    if record.action == "reassign" and record.owner:
        leader = config.assignments.leaders.get(record.owner)
        kind = f"转交{leader.name if leader else record.owner}（{record.owner}）"
    return NoteView(clock.full(record.at), actor_text(record.actor, config), kind,
                    labels.label(labels.CASE_ACTIONS, record.action), record.text or "")
