"""The leader's alert pages and phone flow, served by the alert API's app:

    GET  /a/{alert_id}?t=<link token>   the alert page from a notification (links.py)
    GET  /a/{alert_id}                  the same page for a logged-in person (session from /login)
    POST /a/{alert_id}/ack              form: csrf, t (link) or the session, note (optional)
    POST /a/{alert_id}/note             form: csrf, t or the session, kind (progress|measure), text
    POST /a/{alert_id}/close            form: csrf, t or the session, reason (required)
    GET  /alerts                        (browsers: Accept text/html, no Authorization header) the
                                        logged-in leader's open alerts; API clients get the JSON API

From the notification link a leader acknowledges, adds progress notes and closes, as often as
needed, for as long as the link has not expired, the leader's links are not revoked and the alert
is still theirs: every request checks all three. The page shows the acknowledgement deadline and the
escalation step that follows (deadline.py). Actions go through pipeline.alerting.actions (and the
cases' notes) with access.check_act as `authorize`, exactly as the JSON API does. Security: site.py,
security.py.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.routing import Match

from pipeline import labels
from pipeline.alerting import actions, records
from pipeline.alerting.access import Forbidden, Principal, check_act, check_see, visible_assignees
from pipeline.cases import actions as case_actions
from pipeline.cases.derive import derive_case
from pipeline.configset import ConfigSet
from pipeline.errors import Conflict, NotFound
from pipeline.web import casenotes, security, view
from pipeline.web.deadline import ack_deadline
from pipeline.web.links import Keys, LinkClaim, LinkRefused, LinkSigner
from pipeline.web.revocation import revoked_since
from pipeline.web.site import Refusal, Site, clean, mount_site

if TYPE_CHECKING:
    from pipeline.ledgers.importer import LedgerSink

log = logging.getLogger(__name__)
MAX_TEXT = actions.MAX_TEXT
OPEN_STATUSES = ("open", "acknowledged")


class BrowserRoute(APIRoute):
    """A route that only browsers reach: GET with Accept text/html and no Authorization header, so
    `/alerts` serves the page to a browser and the JSON API to every API client, unchanged."""

    def matches(self, scope):
        if scope.get("type") == "http":
            headers = dict(scope.get("headers") or ())
            accept = headers.get(b"accept", b"").decode("latin-1")
            if b"authorization" in headers or "text/html" not in accept:
                return Match.NONE, {}
        return super().matches(scope)


@dataclass(frozen=True)
class Access:
    """Who is asking about one alert, and what binds their forms (CSRF)."""

    principal: Principal
    via: str                       # link | session
    binding: str
    claim: LinkClaim | None = None


class Pages:
    def __init__(self, site: Site, signer: LinkSigner):
        self.site, self.signer = site, signer
        self.engine, self.assignments, self.config = site.engine, site.assignments, site.config

    # -- who is asking ----------------------------------------------------------------------------

    def link_access(self, alert_id: str, token: str) -> Access:
        try:
            claim = self.signer.verify(alert_id, token, self.site.clock())
        except LinkRefused as exc:
            raise Refusal(exc.reason, 403 if exc.reason == "invalid" else 410, alert_id) from None
        with self.engine.connect() as conn:
            revoked = revoked_since(conn, claim.leader_id, claim.issued_at)
        if revoked:
            log.info("revoked link of %s refused for alert %s", claim.leader_id, alert_id)
            raise Refusal("invalid", 403, alert_id)
        if claim.leader_id not in self.assignments.leaders:
            raise Refusal("not_answerable", 403, alert_id)
        principal = Principal(f"link:{claim.leader_id}", "leader", claim.leader_id)
        return Access(principal, "link", f"link:{claim.nonce}", claim)

    def access(self, request: Request, alert_id: str, token: str | None) -> Access:
        if token:
            return self.link_access(alert_id, clean(token, 0))
        found = self.site.visitor(request)
        if found is None:
            raise Refusal("login", 401, alert_id)
        return Access(found.principal, "session", found.binding)

    def owned(self, alert: records.AlertRecord) -> records.AlertRecord:
        """The alert as its case is owned: after a 转办 of `alert:<id>` the new owner (and their chain)
        answers for it, and the old owner's links stop acting."""
        with self.engine.connect() as conn:
            case = derive_case(conn, self.assignments, f"alert:{alert.alert_id}")
        if case is None or not case.owner or case.owner == alert.assignee:
            return alert
        return replace(alert, assignee=case.owner)

    def load(self, alert_id: str, who: Access) -> records.AlertRecord:
        with self.engine.connect() as conn:
            alert = records.get_alert(conn, alert_id)
        if alert is None:
            raise Refusal("not_found", 404, alert_id)
        try:
            if who.via == "link":
                check_act(who.principal, self.owned(alert), self.assignments)
            else:
                check_see(who.principal, self.owned(alert), self.assignments)
        except Forbidden:
            raise Refusal("not_answerable" if who.via == "link" else "forbidden", 403, alert_id) from None
        return alert

    def may_act(self, who: Access, alert: records.AlertRecord) -> bool:
        try:
            check_act(who.principal, self.owned(alert), self.assignments)
            return True
        except Forbidden:
            return False

    # -- the alert page ---------------------------------------------------------------------------

    def alert_page(self, alert: records.AlertRecord, who: Access, token: str | None, status: int = 200,
                   done: str | None = None, error: str | None = None, **fields: str) -> HTMLResponse:
        now = self.site.clock()
        ref = f"alert:{alert.alert_id}"
        with self.engine.connect() as conn:
            page = view.build(conn, self.config, alert, now, self.site.timezone)
            deadline = ack_deadline(conn, self.assignments, alert)
            notes = case_actions.case_actions(conn, ref)
            case = derive_case(conn, self.assignments, ref)
        can_act = self.may_act(who, alert)
        can_note = case is not None and case.is_open and case_actions.may_act(who.principal, case)
        open_now = alert.status in OPEN_STATUSES
        clock = view.Clocktext(self.site.timezone)
        return self.site.render(
            "alert.html", status, v=page, who=who, token=token, csrf=self.site.csrf(who.binding, alert.alert_id),
            can_ack=can_act and alert.status == "open", can_close=can_act and open_now,
            can_note=can_note, done=done, error=error,
            note=fields.get("note", ""), reason=fields.get("reason", ""), text=fields.get("text", ""),
            deadline=deadline, due=clock.full(deadline.due) if deadline and deadline.due else None,
            notes=[casenotes.shown(n, clock, self.config) for n in notes],
            expires=(clock.full(who.claim.expires_at) if who.claim else None),
        )

    def act(self, request: Request, alert_id: str, action: str, token: str | None, csrf: str | None,
            text: str, note_kind: str = "progress") -> HTMLResponse:
        who = self.access(request, alert_id, token)
        self.site.check_form(request, who.binding, alert_id, csrf)
        alert = self.load(alert_id, who)
        text = clean(text, 0)
        field = {"ack": "note", "close": "reason", "note": "text"}[action]
        if action in ("close", "note") and not text:
            message = "请填写处置情况或关闭原因。" if action == "close" else "请填写处置进展。"
            return self.alert_page(alert, who, token, 422, error=message)
        if len(text) > MAX_TEXT:
            return self.alert_page(alert, who, token, 422, error=f"内容过长（最多 {MAX_TEXT} 字）。", **{field: text})
        now = self.site.clock()

        def authorize(a: records.AlertRecord) -> None:
            check_act(who.principal, self.owned(a), self.assignments)

        try:
            if action == "ack":
                changed = actions.acknowledge(self.engine, alert_id, who.principal.actor, text or None, now,
                                              authorize=authorize, assignments=self.assignments)
            elif action == "close":
                changed = actions.close(self.engine, alert_id, who.principal.actor, text, now, authorize=authorize,
                                        assignments=self.assignments)
            else:
                case_actions.add_note(self.engine, self.assignments, f"alert:{alert_id}", who.principal, text,
                                      note_kind, now)
                changed = alert
        except Forbidden:
            raise Refusal("not_answerable" if who.via == "link" else "forbidden", 403, alert_id) from None
        except NotFound:
            raise Refusal("not_found", 404, alert_id) from None
        except Conflict:
            with self.engine.connect() as conn:
                current = records.get_alert(conn, alert_id) or alert
            state = labels.label(labels.ALERT_STATES, current.status)
            return self.alert_page(current, who, token, 409, error=f"预警当前状态为“{state}”，此操作未执行。")
        log.info("alert %s: %s via the alert page (%s) by %s", alert_id, action, who.via,
                 who.principal.leader_id or who.principal.actor)
        return self.alert_page(changed, who, token, 200, done=action)

    # -- the list page ----------------------------------------------------------------------------

    def list_page(self, request: Request, level: str | None, building: str | None) -> Response:
        found = self.site.visitor(request)
        if found is None:
            return self.site.redirect("/login")
        principal = found.principal
        levels = [name for name, _ in self.config.rules.levels]
        level = level if level in levels else None
        building = clean(building, 64) or None
        scope = visible_assignees(principal, self.assignments)
        with self.engine.connect() as conn:
            every = records.list_alerts(conn, statuses=OPEN_STATUSES, assignees=scope, limit=1000)
        buildings = sorted({a.building for a in every if a.building})
        shown = [a for a in every if (level is None or a.level == level) and (building is None or a.building == building)]
        rank = self.config.rules.rank
        shown.sort(key=lambda a: (-rank(a.level) if a.level in levels else 0, -a.raised_at.timestamp(), a.alert_id))
        clock = view.Clocktext(self.site.timezone)
        rows = [{
            "id": a.alert_id, "level": a.level, "entity": view.entity_parts(a.entity, self.config.area), "ref": a.entity,
            "building": a.building, "score": a.score, "raised": clock.full(a.raised_at),
            "status": labels.label(labels.ALERT_STATES, a.status), "open": a.status == "open",
        } for a in shown]
        who = principal.leader_id and view.leader_label(self.config, principal.leader_id) or principal.actor
        return self.site.render("list.html", rows=rows, total=len(every), levels=levels, level=level,
                                buildings=buildings, building=building, who=who, actor=principal.actor,
                                workspace=principal.role in ("analyst", "admin"),
                                csrf=self.site.csrf(found.binding, "logout"))


def mount(app: FastAPI, config: ConfigSet, keys: Keys, *, public_url: str, link_ttl_s: float = 72 * 3600,
          session_ttl_s: float = 12 * 3600, timezone: str = "Asia/Shanghai",
          upload_limit: int = 20 * 1024 * 1024, ledger_sink: LedgerSink | None = None) -> Pages:
    """Add the pages (alert pages, phone flow, login, the analyst's workspace) to an app made by
    pipeline.api.app.create_app (its `Api` gives database, assignments and clock). `ledger_sink`:
    where uploaded ledgers' events go (pipeline/ledgers/importer.py; none: a database replay)."""
    from pipeline.web.workspace import mount_workspace

    site = Site(app, config, keys, public_url=public_url, link_ttl_s=link_ttl_s, session_ttl_s=session_ttl_s,
                timezone=timezone)
    pages = Pages(site, LinkSigner(keys, public_url, link_ttl_s, clock=site.clock))
    security.install_log_redaction()
    mount_site(app, site)
    router = APIRouter(include_in_schema=False)

    # a Form() is bound to its parameter's name: each parameter gets its own
    def text_field():
        return Form("", max_length=4000)

    def token_field():
        return Form(None, max_length=300)

    def csrf_field():
        return Form(None, max_length=100)

    @router.get("/a/{alert_id}", response_class=HTMLResponse)
    def alert_page(request: Request, alert_id: str, t: str | None = None) -> Response:
        def page():
            who = pages.access(request, alert_id, t)
            return pages.alert_page(pages.load(alert_id, who), who, t)
        return site.guarded(page)

    @router.post("/a/{alert_id}/ack", response_class=HTMLResponse)
    def ack(request: Request, alert_id: str, t: str | None = token_field(), csrf: str | None = csrf_field(),
            note: str = text_field()) -> Response:
        return site.guarded(lambda: pages.act(request, alert_id, "ack", t, csrf, note))

    @router.post("/a/{alert_id}/note", response_class=HTMLResponse)
    def note(request: Request, alert_id: str, t: str | None = token_field(), csrf: str | None = csrf_field(),
             text: str = text_field(), kind: str = Form("progress", max_length=16)) -> Response:
        kind = kind if kind in ("progress", "measure") else "progress"
        return site.guarded(lambda: pages.act(request, alert_id, "note", t, csrf, text, kind))

    @router.post("/a/{alert_id}/close", response_class=HTMLResponse)
    def close(request: Request, alert_id: str, t: str | None = token_field(), csrf: str | None = csrf_field(),
              reason: str = text_field()) -> Response:
        return site.guarded(lambda: pages.act(request, alert_id, "close", t, csrf, reason))

    def alert_list(request: Request, level: str | None = None, building: str | None = None) -> Response:
        return site.guarded(lambda: pages.list_page(request, level, building))

    app.include_router(router)
    # the browser-only /alerts must be tried before the JSON API's /alerts: first in the list
    app.router.add_api_route("/alerts", alert_list, methods=["GET"], include_in_schema=False,
                             response_class=HTMLResponse, route_class_override=BrowserRoute)
    app.router.routes.insert(0, app.router.routes.pop())
    mount_workspace(app, site, upload_limit, ledger_sink)
    app.state.pages = pages
    return pages


def mount_from_settings(app: FastAPI, config: ConfigSet, settings, ledger_sink: LedgerSink | None = None) -> Pages:
    """`mount` with the settings' secret, public_url, link_ttl, session_ttl and timezone;
    LinkSecretMissing (one line) when the secret is unset, too short or too easy to guess."""
    keys = Keys.from_settings(settings)
    return mount(app, config, keys, public_url=settings.public_url, link_ttl_s=settings.link_ttl_seconds,
                 session_ttl_s=settings.session_ttl_seconds, timezone=settings.timezone,
                 upload_limit=settings.upload_limit, ledger_sink=ledger_sink)
