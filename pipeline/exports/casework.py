"""The weekly review's case sections, built around the meeting brief (docs/contract.md §8).

`build_casework(conn, cfg, week)` takes the §8 brief of the week and adds what people wrote: the
last action of each case, the week's notes, 转办 and closings with their reasons (alert close
reasons and acknowledgement notes from alert_history), and the decisions with their 落实情况.
Every open case appears, whenever it was opened, grouped by 楼栋 and by 包保领导.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from pipeline.cases.actions import ACTIONS
from pipeline.cases.brief import brief_decisions, case_place, meeting_brief, week_period
from pipeline.cases.decisions import DecisionRecord, list_decisions
from pipeline.cases.derive import HISTORY, derive_cases
from pipeline.cases.model import CaseRecord
from pipeline.exports.period import Period
from pipeline.labels import (
    ALERT_ACTIONS,
    CASE_ACTIONS,
    CASE_ENDINGS,
    CASE_KINDS,
    DECISION_STATES,
    NOTE_KINDS,
    building_label,
    case_state_label,
    entity_label,
    label,
    level_label,
)
from pipeline.timeutil import aware

OPEN_COLUMNS = ["案件编号", "对象", "类型", "状态", "楼栋", "地点", "包保领导", "立案时间", "整改期限", "逾期天数", "风险分值",
                "等级", "最近处置时间", "最近处置情况"]
CHANGE_COLUMNS = ["变动", "案件编号", "对象", "类型", "楼栋", "地点", "包保领导", "时间", "状态或办结原因"]
DECISION_COLUMNS = ["编号", "会议周次", "案件编号", "研判意见", "责任人", "时限", "落实状态", "落实时间", "落实情况"]
RECORD_COLUMNS = ["时间", "案件编号", "事项", "人员", "内容"]
NOT_WORK = ("notified", "escalated", "raised", "upgraded")


@dataclass
class Casework:
    period: Period
    brief: dict[str, Any]
    open_cases: pd.DataFrame        # OPEN_COLUMNS, by days overdue then score (the brief's order)
    changes: pd.DataFrame           # CHANGE_COLUMNS: new and closed this week
    decisions: pd.DataFrame         # DECISION_COLUMNS: the brief's decisions
    records: pd.DataFrame           # RECORD_COLUMNS: the week's notes, 转办, closings, acknowledgements
    leaders: dict[str, str]         # leader id -> post name (assignments.yaml)

    def leader_name(self, leader: str | None) -> str:
        if not leader:
            return ""
        return f"{leader} {self.leaders[leader]}" if leader in self.leaders else leader

    @property
    def overdue(self) -> pd.DataFrame:
        return self.open_cases[self.open_cases["逾期天数"] > 0]


def case_title(case: CaseRecord, area) -> str:
    """What the case is about, as people say it: the hazard or dispute number, else the entity's name."""
    if case.kind in ("hazard", "dispute") or not case.entity:
        return case.ref.partition(":")[2]
    return entity_label(case.entity, area)


def _local(at: datetime | None, period: Period):
    return pd.NaT if at is None else pd.Timestamp(at.astimezone(period.tz).replace(tzinfo=None))


def _records(conn: sa.Connection, period: Period) -> list[tuple[datetime, str, str, str, str]]:
    """(time, case ref, what, who, text) of people's actions in the week, oldest first."""
    out = []
    q = sa.select(ACTIONS).where(ACTIONS.c.at >= period.start, ACTIONS.c.at < period.end)
    for r in conn.execute(q):
        what = label(NOTE_KINDS, r.note_kind) if r.action == "note" else label(CASE_ACTIONS, r.action)
        if r.action == "reassign":
            what += f"至{r.owner}"
        out.append((aware(r.at), r.ref, what, r.actor, r.text or ""))
    q = sa.select(HISTORY).where(HISTORY.c.at >= period.start, HISTORY.c.at < period.end,
                                 HISTORY.c.action.not_in(NOT_WORK))
    for r in conn.execute(q):
        detail = r.detail or {}
        text = detail.get("reason") or detail.get("note") or ""
        out.append((aware(r.at), f"alert:{r.alert_id}", label(ALERT_ACTIONS, r.action), r.actor, str(text)))
    return sorted(out)


def _last_actions(conn: sa.Connection, refs: list[str], as_of: datetime) -> dict[str, str]:
    """Per case, the text of its latest note, 转办 or closing before `as_of`."""
    out: dict[str, str] = {}
    if not refs:
        return out
    q = (sa.select(ACTIONS).where(ACTIONS.c.ref.in_(refs), ACTIONS.c.at < as_of)
         .order_by(ACTIONS.c.at, ACTIONS.c.id))
    for r in conn.execute(q):
        what = label(NOTE_KINDS, r.note_kind) if r.action == "note" else label(CASE_ACTIONS, r.action)
        out[r.ref] = f"{what}：{r.text}" if r.text else what
    return out


def _close_reasons(conn: sa.Connection, closed: list[CaseRecord]) -> dict[str, str]:
    """Why each case closed: the reason given by hand, else what closed it."""
    out = {c.ref: label(CASE_ENDINGS, c.kind) for c in closed}
    refs = [c.ref for c in closed]
    for r in conn.execute(sa.select(ACTIONS).where(ACTIONS.c.ref.in_(refs), ACTIONS.c.action == "close")):
        out[r.ref] = r.text or out[r.ref]
    alert_ids = [ref.partition(":")[2] for ref in refs if ref.startswith("alert:")]
    if alert_ids:
        q = sa.select(HISTORY).where(HISTORY.c.alert_id.in_(alert_ids), HISTORY.c.action == "closed")
        for r in conn.execute(q):
            out[f"alert:{r.alert_id}"] = (r.detail or {}).get("reason") or out[f"alert:{r.alert_id}"]
    return out


def build_casework(conn: sa.Connection, cfg, week: str) -> Casework:
    area, assignments = cfg.area, cfg.assignments
    period = week_period(week, area)
    brief = meeting_brief(conn, area, assignments, week)
    cases = derive_cases(conn, assignments, period.end)
    leaders = {lid: leader.name for lid, leader in assignments.leaders.items()}
    last = _last_actions(conn, [c["ref"] for c in brief["open_cases"]], period.end)

    def leader(lid: str | None) -> str:
        return f"{lid} {leaders[lid]}" if lid in leaders else (lid or "")

    rows = []
    for c in brief["open_cases"]:
        case = cases[c["ref"]]
        rows.append([c["ref"], case_title(case, area), label(CASE_KINDS, c["kind"]), case_state_label(c["kind"], c["state"]),
                     building_label(c["building"]), c["place"] or "", leader(c["leader"]),
                     _local(case.opened_at, period), _local(case.due, period), c["days_overdue"],
                     c["score"], level_label(c["level"]) if c["level"] else "",
                     _local(case.last_action_at, period), last.get(c["ref"], _no_record(c["kind"], c["state"]))])
    open_cases = pd.DataFrame(rows, columns=OPEN_COLUMNS)

    closed = [cases[ref] for ref in brief["closed"]]
    reasons = _close_reasons(conn, closed)
    change_rows = []
    for what, refs in (("新增", brief["new"]), ("办结", brief["closed"])):
        for ref in refs:
            case = cases[ref]
            when = case.opened_at if what == "新增" else case.closed_at
            change_rows.append([what, ref, case_title(case, area), label(CASE_KINDS, case.kind), building_label(case.building),
                                case_place(case, area) or "", leader(case.owner), _local(when, period),
                                reasons.get(ref, "") if what == "办结" else case_state_label(case.kind, case.state)])
    changes = pd.DataFrame(change_rows, columns=CHANGE_COLUMNS)

    chosen = brief_decisions(list_decisions(conn, area.tz), period)
    decisions = pd.DataFrame([_decision_row(d, period, leader) for d in chosen], columns=DECISION_COLUMNS)
    records = pd.DataFrame([[_local(t, period), ref, what, who, text] for t, ref, what, who, text
                            in _records(conn, period)], columns=RECORD_COLUMNS)
    return Casework(period, brief, open_cases, changes, decisions, records, leaders)


def _no_record(kind: str, state: str) -> str:
    """The last-action text of a case nobody has written on: its state, or that nothing is recorded."""
    return "未见处置记录" if state == "open" else case_state_label(kind, state)


def _decision_row(d: DecisionRecord, period: Period, leader) -> list:
    done = d.done_by_time(period.end)
    return [d.id, d.week, d.case, d.text, leader(d.owner), d.due.isoformat(),
            label(DECISION_STATES, d.state_at(period.end, period.tz)),
            _local(d.done_at, period) if done else pd.NaT, (d.done_note or "") if done else ""]
