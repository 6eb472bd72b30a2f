"""The analyst's workspace (issue 14 item 6): for roles analyst and admin, after one login
(server-side session, site.py). Server-rendered, no script, the pages' security headers and CSRF.

    GET  /w                       the leaders' caseloads (open and overdue cases per 包保领导)
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import cast

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from pipeline.alerting.records import aware
from pipeline.storage.case_tables import Case
from pipeline.web.site import WORKSPACE_ROLES, Site, Visitor

CASES = cast(sa.Table, Case.__table__)


def caseloads(conn: sa.Connection, site: Site, now: datetime) -> list[dict]:
    """Open and overdue cases per leader (every leader of assignments.yaml, busiest first)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"open": 0, "overdue": 0})
    rows = conn.execute(sa.select(CASES.c.owner, CASES.c.kind, CASES.c.state, CASES.c.due)
                        .where(CASES.c.is_open.is_(True)))
    for r in rows:
        owner = r.owner or site.assignments.default
        counts[owner]["open"] += 1
        due = aware(r.due)
        if due is not None and due < now and not (r.kind == "hazard" and r.state == "rectified"):
            counts[owner]["overdue"] += 1
    out = []
    for lid, leader in site.assignments.leaders.items():
        c = counts.get(lid, {"open": 0, "overdue": 0})
        out.append({"id": lid, "name": leader.name, **c})
    out.sort(key=lambda r: (-r["overdue"], -r["open"], r["id"]))
    return out


def mount_workspace(app: FastAPI, site: Site) -> None:
    router = APIRouter(include_in_schema=False)
    site.app.state.guards.require("/w/", ("POST",), site.session_cookie_ok)

    def who(request: Request) -> Visitor | None:
        return site.visitor(request, WORKSPACE_ROLES)

    @router.get("/w", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        visitor = who(request)
        if visitor is None:
            return site.redirect("/login")
        now = site.clock()
        with site.engine.connect() as conn:
            loads = caseloads(conn, site, now)
        return site.render("workspace/home.html", visitor=visitor, loads=loads,
                           csrf=site.csrf(visitor.binding, "logout"))

    app.include_router(router)
