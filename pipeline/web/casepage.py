"""A case in the analyst's workspace (docs/contract.md §8) and the decisions page.

    GET  /w/c/{ref}                 the case: facts, history (its events, its alerts' history, notes,
                                    转办, closing), notes / 转办 / closing / a decision of the meeting
    POST /w/c/{ref}/note            kind (progress|measure), text
    POST /w/c/{ref}/reassign        to (leader id), reason
    POST /w/c/{ref}/close           reason (person cases; alert cases close their alert)
    POST /w/c/{ref}/decision        text, owner, due (YYYY-MM-DD), week (optional)
    GET  /w/decisions?state=        the meeting's decisions; open ones can be marked done
    POST /w/decisions/{id}/done     note (落实情况)

Every action goes through the cases core (pipeline.cases.actions / decisions): one transaction with
its audit record. A refused action changes nothing and shows why in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from pipeline import labels
from pipeline.alerting.records import ALERTS, HISTORY
from pipeline.cases import actions as case_actions
from pipeline.cases import decisions as case_decisions
from pipeline.cases.derive import ID_KEY, derive_case
from pipeline.cases.model import CaseRecord
from pipeline.errors import Conflict, Forbidden, NotFound, RiskwatchError, UsageError
from pipeline.storage.models import Event
from pipeline.timeutil import aware
from pipeline.web.casenotes import actor_text
from pipeline.web.site import Refusal, Visitor, clean

if TYPE_CHECKING:
    from pipeline.web.workspace import Workspace

EVENTS = Event.__table__
MAX_TEXT = case_actions.MAX_TEXT


@dataclass(frozen=True)
class Step:
    at: datetime
    what: str
    who: str
    detail: str


def _history(conn: sa.Connection, ws: Workspace, case: CaseRecord) -> list[dict[str, str]]:
    kind, _, ident = case.ref.partition(":")
    steps: list[Step] = []
    if kind in ID_KEY:
        q = (sa.select(EVENTS.c.occurred_at, EVENTS.c.kind, EVENTS.c.type, EVENTS.c.source, EVENTS.c.doc)
             .where(EVENTS.c.kind == kind, EVENTS.c.doc["attributes"][ID_KEY[kind]].as_string() == ident)
             .order_by(EVENTS.c.occurred_at))
        for r in conn.execute(q):
            text = str((r.doc or {}).get("text") or "")[:200]
            steps.append(Step(aware(r.occurred_at), labels.event_label(r.kind, r.type),
                              labels.label(labels.SOURCES, r.source), text))
    alert_ids = [ident] if kind == "alert" else []
    if kind == "person":
        alert_ids = list(conn.execute(sa.select(ALERTS.c.alert_id).where(ALERTS.c.entity == case.ref)).scalars())
    if alert_ids:
        q = sa.select(HISTORY).where(HISTORY.c.alert_id.in_(alert_ids)).order_by(HISTORY.c.at, HISTORY.c.id)
        for h in conn.execute(q):
            d = h.detail or {}
            detail = d.get("note") or d.get("reason") or ""
            if h.action == "escalated":
                detail = f"上报至 {ws.leader_name(d.get('to'))}"
            what = labels.label(labels.ALERT_ACTIONS, h.action)
            steps.append(Step(aware(h.at), f"预警 {h.alert_id}：{what}" if kind == "person" else what,
                              labels.label(labels.SOURCES, h.actor), str(detail)))
    for a in case_actions.case_actions(conn, case.ref):
        what = labels.label(labels.CASE_ACTIONS, a.action)
        if a.action == "note":
            what = labels.label(labels.NOTE_KINDS, a.note_kind)
        elif a.action == "reassign":
            what = f"转办给 {ws.leader_name(a.owner)}"
        steps.append(Step(a.at, what, actor_text(a.actor, ws.site.config), a.text or ""))
    steps.sort(key=lambda s: s.at)
    return [{"at": ws.time(s.at), "what": s.what, "who": s.who, "detail": s.detail} for s in steps]


def _decision_row(ws: Workspace, d: case_decisions.DecisionRecord, now: datetime) -> dict[str, Any]:
    state = d.state_at(now, ws.area.tz)
    return {"id": d.id, "case": d.case, "text": d.text, "owner": ws.leader_name(d.owner),
            "due": labels.date_text(d.due), "week": d.week, "state": state,
            "state_zh": labels.label(labels.DECISION_STATES, state), "done_at": ws.time(d.done_at),
            "done_note": d.done_note or "", "created_by": d.created_by}


class CasePages:
    def __init__(self, ws: Workspace):
        self.ws, self.site = ws, ws.site

    def page(self, request: Request, ref: str, status: int = 200, error: str | None = None,
             done: str | None = None, visitor: Visitor | None = None) -> Response:
        visitor = visitor or self.ws.visitor(request)
        now = self.site.clock()
        with self.site.engine.connect() as conn:
            case = derive_case(conn, self.site.assignments, ref) if ":" in ref else None
            if case is None:
                raise Refusal("not_found", 404)
            history = _history(conn, self.ws, case)
            decisions = case_decisions.list_decisions(conn, self.ws.area.tz, case=ref)
        row = self.ws.case_row(case, now)
        closable = case.is_open and case.kind in ("person", "alert")
        return self.ws.render(
            "workspace/case.html", visitor, status, case=case, row=row, history=history, error=error, done=done,
            decisions=[_decision_row(self.ws, d, now) for d in decisions], closable=closable,
            form=self.site.csrf(visitor.binding, f"case:{ref}"), leaders=self.site.assignments.leaders,
            today=now.astimezone(self.ws.area.tz).date().isoformat(), week=self.ws.this_week().label)

    def act(self, request: Request, ref: str, action: str, csrf: str | None, fields: dict[str, str]) -> Response:
        visitor = self.ws.visitor(request)
        self.site.check_form(request, visitor.binding, f"case:{ref}", csrf)
        values = {k: clean(v, 0) for k, v in fields.items()}
        required = {"note": "text", "reassign": "reason", "close": "reason", "decision": "text"}[action]
        if not values.get(required):
            return self.page(request, ref, 422, error="请填写必填内容，操作未执行。", visitor=visitor)
        if any(len(v) > MAX_TEXT for v in values.values()):
            return self.page(request, ref, 422, error=f"内容过长（最多 {MAX_TEXT} 字），操作未执行。", visitor=visitor)
        now, who, assignments = self.site.clock(), visitor.principal, self.site.assignments
        try:
            if action == "note":
                kind = values["kind"] if values.get("kind") in labels.NOTE_KINDS else "progress"
                case_actions.add_note(self.site.engine, assignments, ref, who, values["text"], kind, now)
            elif action == "reassign":
                case_actions.reassign(self.site.engine, assignments, ref, who, values.get("to", ""),
                                      values["reason"], now)
            elif action == "close":
                case_actions.close_case(self.site.engine, assignments, ref, who, values["reason"], now)
            else:
                due = date.fromisoformat(values.get("due", ""))
                case_decisions.add_decision(self.site.engine, assignments, self.ws.area.tz, ref, values["text"],
                                            values.get("owner", ""), due, who, week=values.get("week") or None,
                                            now=now)
        except ValueError:
            return self.page(request, ref, 422, error="日期格式应为 年-月-日（如 2024-11-15），操作未执行。",
                             visitor=visitor)
        except Forbidden:
            raise Refusal("forbidden", 403) from None
        except NotFound:
            raise Refusal("not_found", 404) from None
        except (UsageError, Conflict) as exc:
            return self.page(request, ref, exc.http_status, error=f"{exc.label}：{self.why(exc)}，操作未执行。",
                             visitor=visitor)
        return self.page(request, ref, done=action, visitor=visitor)

    @staticmethod
    def why(exc: RiskwatchError) -> str:
        text = str(exc)
        if any("\u4e00" <= ch <= "\u9fff" for ch in text):   # the cases core says why in Chinese itself
            return text.rstrip("。")
        if "unknown leader" in text:
            return "包保领导不存在"
        if "already" in text and "'s" in text:
            return "案件已由该领导负责"
        if "closes by its events" in text:
            return "隐患、纠纷案件由整改复查、化解事件办结，不能手工办结"
        if "still has open work" in text:
            return "该人员仍有未办结的预警或纠纷"
        if "cannot reassign" in text or "already closed" in text:
            return "案件已办结"
        return "请检查填写内容"

    # -- decisions --------------------------------------------------------------------------------

    def decisions(self, request: Request, state: str | None, status: int = 200, error: str | None = None,
                  done: bool = False, visitor: Visitor | None = None) -> Response:
        visitor = visitor or self.ws.visitor(request)
        now = self.site.clock()
        state = state if state in labels.DECISION_STATES else None
        with self.site.engine.connect() as conn:
            found = case_decisions.list_decisions(conn, self.ws.area.tz, state=state, at=now)
        rows = [_decision_row(self.ws, d, now) for d in found]
        rows.sort(key=lambda r: ({"overdue": 0, "open": 1, "done": 2}[r["state"]], r["id"]))
        return self.ws.render("workspace/decisions.html", visitor, status, rows=rows, state=state, error=error,
                              done=done, states=labels.DECISION_STATES,
                              form=self.site.csrf(visitor.binding, "decisions"))

    def mark_done(self, request: Request, decision_id: int, csrf: str | None, note: str) -> Response:
        visitor = self.ws.visitor(request)
        self.site.check_form(request, visitor.binding, "decisions", csrf)
        note = clean(note, 0)
        if not note or len(note) > MAX_TEXT:
            return self.decisions(request, None, 422, error="请填写落实情况（最多 2000 字），操作未执行。", visitor=visitor)
        try:
            case_decisions.mark_done(self.site.engine, decision_id, note, visitor.principal, self.site.clock())
        except Forbidden:
            raise Refusal("forbidden", 403) from None
        except NotFound:
            raise Refusal("not_found", 404) from None
        except (UsageError, Conflict) as exc:
            return self.decisions(request, None, exc.http_status, error=f"{exc.label}：该研判意见已落实，操作未执行。",
                                  visitor=visitor)
        return self.decisions(request, None, done=True, visitor=visitor)


def mount_casepages(app: FastAPI, ws: Workspace) -> CasePages:
    pages = CasePages(ws)
    site = ws.site
    router = APIRouter(include_in_schema=False)

    def text() -> Any:
        return Form("", max_length=MAX_TEXT * 2)

    def short() -> Any:
        return Form("", max_length=100)

    @router.get("/w/c/{ref}", response_class=HTMLResponse)
    def case_page(request: Request, ref: str) -> Response:
        return site.guarded(lambda: pages.page(request, ref), login_redirect=True)

    @router.post("/w/c/{ref}/note", response_class=HTMLResponse)
    def note(request: Request, ref: str, csrf: str = short(), kind: str = short(), text: str = text()) -> Response:
        return site.guarded(lambda: pages.act(request, ref, "note", csrf, {"kind": kind, "text": text}))

    @router.post("/w/c/{ref}/reassign", response_class=HTMLResponse)
    def reassign(request: Request, ref: str, csrf: str = short(), to: str = short(), reason: str = text()) -> Response:
        return site.guarded(lambda: pages.act(request, ref, "reassign", csrf, {"to": to, "reason": reason}))

    @router.post("/w/c/{ref}/close", response_class=HTMLResponse)
    def close(request: Request, ref: str, csrf: str = short(), reason: str = text()) -> Response:
        return site.guarded(lambda: pages.act(request, ref, "close", csrf, {"reason": reason}))

    @router.post("/w/c/{ref}/decision", response_class=HTMLResponse)
    def decision(request: Request, ref: str, csrf: str = short(), text: str = text(), owner: str = short(),
                 due: str = short(), week: str = short()) -> Response:
        return site.guarded(lambda: pages.act(request, ref, "decision", csrf,
                                              {"text": text, "owner": owner, "due": due, "week": week}))

    @router.get("/w/decisions", response_class=HTMLResponse)
    def decisions(request: Request, state: str | None = None) -> Response:
        return site.guarded(lambda: pages.decisions(request, state), login_redirect=True)

    @router.post("/w/decisions/{decision_id}/done", response_class=HTMLResponse)
    def done(request: Request, decision_id: int, csrf: str = short(), note: str = text()) -> Response:
        return site.guarded(lambda: pages.mark_done(request, decision_id, csrf, note))

    app.include_router(router)
    return pages
