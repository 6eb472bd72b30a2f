"""The analyst's workspace: for roles analyst and admin, after one login
(server-side session, site.py). Server-rendered, no script, the pages' security headers and CSRF;
every form POST under /w/ needs a live workspace session before its body is read (guard.AuthFirst).

    GET  /w                         the leaders' caseloads, the weeks' briefs
    GET  /w/brief?week=YYYY-Www     the meeting brief of a week (docs/contract.md §8) as a printable page
    GET  /w/brief/{week}.xlsx|.pdf  the weekly review of that week (audited as an export)
    GET  /w/cases?leader=&kind=     open cases, overdue first
    casepage.py                     a case (history, notes, 转办, decisions), the decisions page
    upload.py                       ledger upload: dry-run report, then import
"""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from pipeline import audit, labels
from pipeline.cases.brief import meeting_brief
from pipeline.cases.derive import derive_cases
from pipeline.cases.model import CaseRecord
from pipeline.exports.period import Period, iso_week, previous_week, week_of
from pipeline.web import security
from pipeline.web.site import WORKSPACE_ROLES, Refusal, Site, Visitor

if TYPE_CHECKING:
    from pipeline.ledgers.importer import LedgerSink

WEEKS_SHOWN = 6
DOWNLOADS = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


class Workspace:
    def __init__(self, site: Site):
        self.site = site
        self.area = site.config.area

    def visitor(self, request: Request) -> Visitor:
        found = self.site.visitor(request, WORKSPACE_ROLES)
        if found is None:
            raise Refusal("login", 401)
        return found

    def render(self, template: str, visitor: Visitor, status: int = 200, **ctx: Any) -> HTMLResponse:
        return self.site.render(template, status, visitor=visitor, csrf=self.site.csrf(visitor.binding, "logout"),
                                leader_name=self.leader_name, **ctx)

    def leader_name(self, leader_id: str | None) -> str:
        if not leader_id:
            return "未指定"
        leader = self.site.assignments.leaders.get(leader_id)
        return f"{leader.name}（{leader_id}）" if leader else leader_id

    def time(self, at: datetime | None) -> str:
        return labels.time_text(at, self.area.tz, year=True) if at else "—"

    def this_week(self) -> Period:
        return week_of(self.site.clock().astimezone(self.area.tz).date(), self.area.tz)

    def weeks(self) -> list[Period]:
        out = [self.this_week()]
        while len(out) < WEEKS_SHOWN:
            out.append(previous_week(out[-1]))
        return out

    def period(self, week: str | None) -> Period:
        if not week:
            return self.this_week()
        try:
            return iso_week(week, self.area.tz)
        except ValueError:
            raise Refusal("not_found", 404) from None

    # -- home and caseloads -----------------------------------------------------------------------

    def case_row(self, case: CaseRecord, now: datetime) -> dict[str, Any]:
        from pipeline.cases.brief import case_place

        return {"ref": case.ref, "kind": labels.label(labels.CASE_KINDS, case.kind),
                "state": labels.label(labels.CASE_STATES, case.state), "leader": self.leader_name(case.owner),
                "building": labels.building_label(case.building) if case.building else "—",
                "place": case_place(case, self.area) or "—", "opened": self.time(case.opened_at),
                "due": self.time(case.due), "days_overdue": case.days_overdue(now),
                "last": self.time(case.last_action_at)}

    def home(self, request: Request) -> Response:
        visitor = self.visitor(request)
        now = self.site.clock()
        with self.site.engine.connect() as conn:
            cases = derive_cases(conn, self.site.assignments)
        loads = {lid: {"id": lid, "name": leader.name, "open": 0, "overdue": 0}
                 for lid, leader in self.site.assignments.leaders.items()}
        for case in cases.values():
            if case.is_open and case.owner in loads:
                loads[case.owner]["open"] += 1
                loads[case.owner]["overdue"] += int(case.is_overdue(now))
        rows = sorted(loads.values(), key=lambda r: (-r["overdue"], -r["open"], r["id"]))
        weeks = [{"label": p.label, "text": labels.week_text(p.first_day)} for p in self.weeks()]
        return self.render("workspace/home.html", visitor, loads=rows, weeks=weeks,
                           open_total=sum(r["open"] for r in rows), overdue_total=sum(r["overdue"] for r in rows))

    def cases(self, request: Request, leader: str | None, kind: str | None) -> Response:
        visitor = self.visitor(request)
        now = self.site.clock()
        leader = leader if leader in self.site.assignments.leaders else None
        kind = kind if kind in labels.CASE_KINDS else None
        with self.site.engine.connect() as conn:
            cases = derive_cases(conn, self.site.assignments)
        shown = [c for c in cases.values() if c.is_open and (leader is None or c.owner == leader)
                 and (kind is None or c.kind == kind)]
        shown.sort(key=lambda c: (-c.days_overdue(now), c.due or c.opened_at, c.ref))
        return self.render("workspace/cases.html", visitor, rows=[self.case_row(c, now) for c in shown],
                           leader=leader, kind=kind, leaders=self.site.assignments.leaders,
                           kinds=labels.CASE_KINDS)

    # -- the brief --------------------------------------------------------------------------------

    def brief(self, request: Request, week: str | None) -> Response:
        visitor = self.visitor(request)
        period = self.period(week)
        with self.site.engine.connect() as conn:
            data = meeting_brief(conn, self.area, self.site.assignments, period.label)
            cases = derive_cases(conn, self.site.assignments, period.end)
        as_of = period.end
        open_rows = []
        for entry in data["open_cases"]:
            case = cases.get(entry["ref"])
            row = self.case_row(case, as_of) if case else {"ref": entry["ref"]}
            row.update(score=entry["score"], level=entry["level"])
            open_rows.append(row)
        overdue = [r for r in open_rows if r.get("days_overdue")]
        by_leader: dict[str, list[dict]] = {}
        for entry, row in zip(data["open_cases"], open_rows, strict=True):
            by_leader.setdefault(entry["leader"] or "", []).append(row)
        decisions = [{**d, "owner_name": self.leader_name(d["owner"]),
                      "state_zh": labels.label(labels.DECISION_STATES, d["state"])} for d in data["decisions"]]
        summary = {"open": len(open_rows), "overdue": len(overdue), "new": len(data["new"]),
                   "closed": len(data["closed"]), "decisions": len(decisions),
                   "decisions_overdue": sum(1 for d in decisions if d["state"] == "overdue")}
        return self.render("workspace/brief.html", visitor, week=period.label, week_text=labels.week_text(period.first_day),
                           as_of=self.time(as_of - timedelta(seconds=1)), summary=summary, overdue=overdue,
                           by_leader=[(self.leader_name(lid), data["by_leader"].get(lid, {}), rows)
                                      for lid, rows in sorted(by_leader.items())],
                           new=data["new"], closed=data["closed"], decisions=decisions,
                           weeks=[p.label for p in self.weeks()])

    def download(self, request: Request, week: str, fmt: str) -> Response:
        from pipeline.exports.review import build_review
        from pipeline.exports.writers import EXPORTERS, weekly_file_name

        visitor = self.visitor(request)
        period = self.period(week)
        exporter = EXPORTERS.get(fmt)
        if exporter is None or fmt not in DOWNLOADS:
            raise Refusal("not_found", 404)
        review = build_review(self.site.engine, self.site.config, period.label)
        with tempfile.TemporaryDirectory(prefix="rw-weekly-") as tmp:
            path = Path(tmp) / weekly_file_name(review, exporter)
            exporter.write(review, path)
            body = path.read_bytes()
        audit.record(self.site.engine, visitor.principal.actor, audit.EXPORT,
                     {"export": "weekly", "week": period.label, "formats": [fmt], "files": [path.name],
                      "revealed": False, "via": "workspace"}, at=self.site.clock())
        headers = {**security.PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{path.name}"'}
        return Response(body, media_type=DOWNLOADS[fmt], headers=headers)


def mount_workspace(app: FastAPI, site: Site, upload_limit: int, ledger_sink: LedgerSink | None = None) -> Workspace:
    from pipeline.web.casepage import mount_casepages
    from pipeline.web.upload import mount_upload

    ws = Workspace(site)
    app.state.guards.require("/w/", ("POST",), site.session_cookie_ok)
    router = APIRouter(include_in_schema=False)

    @router.get("/w", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        return site.guarded(lambda: ws.home(request), login_redirect=True)

    @router.get("/w/cases", response_class=HTMLResponse)
    def cases(request: Request, leader: str | None = None, kind: str | None = None) -> Response:
        return site.guarded(lambda: ws.cases(request, leader, kind), login_redirect=True)

    @router.get("/w/brief", response_class=HTMLResponse)
    def brief(request: Request, week: str | None = None) -> Response:
        return site.guarded(lambda: ws.brief(request, week), login_redirect=True)

    @router.get("/w/brief/{week}.{fmt}")
    def download(request: Request, week: str, fmt: str) -> Response:
        return site.guarded(lambda: ws.download(request, week, fmt), login_redirect=True)

    app.include_router(router)
    mount_casepages(app, ws)
    mount_upload(app, ws, upload_limit, ledger_sink)
    return ws

