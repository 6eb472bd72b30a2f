"""The leader's pages (issue 9), served by the alert API's app (`riskwatch api`):

    GET  /a/{alert_id}?t=<link token>   the alert page from a notification (one-time link, see links.py)
    GET  /a/{alert_id}                  the same page for a logged-in leader (session from /login)
    POST /a/{alert_id}/ack              form: csrf, t (link) or the session, note (optional)
    POST /a/{alert_id}/close            form: csrf, t (link) or the session, reason (required)
    GET  /alerts                        (browsers: Accept text/html, no Authorization header) the
                                        logged-in leader's open alerts, highest level and newest first,
                                        filters level and building; API clients still get the JSON API
    GET  /login, POST /login            log in with a personal token (riskwatch tokens create)
    POST /logout
    GET  /static/page.css               the stylesheet (no CDN, no script anywhere)

Actions go through pipeline.alerting.actions with access.check_act as `authorize`, exactly as the
JSON API does: one transaction with the alert_history record and the audit_log record. A link acts
as its leader (actor `link:<leader id>`) on its alert only, once: the `used_links` row is written in
the action's transaction, so a refused action leaves the link unused and two racing taps cannot
both act. Security (CSRF, headers, logs): security.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.routing import Match

from pipeline import audit, auth
from pipeline.alerting import actions, records
from pipeline.alerting.access import Forbidden, Principal, check_act, check_see, visible_assignees
from pipeline.configset import ConfigSet
from pipeline.labels import ALERT_STATES, label, score_text
from pipeline.storage.link_tables import UsedLink
from pipeline.web import security, view
from pipeline.web.links import Keys, LinkClaim, LinkRefused, LinkSigner

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
USED = UsedLink.__table__
PAGE_ROLES = ("leader", "admin")
AUDIT_LOGIN = "page_login"
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


class Refusal(Exception):
    """Shown as a Chinese message page: `kind` picks the text, `status` the HTTP status."""

    def __init__(self, kind: str, status: int, alert_id: str | None = None, detail: str = ""):
        super().__init__(kind)
        self.kind, self.status, self.alert_id, self.detail = kind, status, alert_id, detail


MESSAGES = {
    "invalid": ("链接无效", "此链接无法识别：可能不完整、被改动，或不属于这条预警。请使用通知中的原始链接。"),
    "expired": ("链接已过期", "为保障安全，通知中的链接在有效期（{ttl}）后失效。"),
    "used": ("链接已使用", "此链接为一次性链接，已经用于确认收到或关闭预警，不能再次使用。"),
    "not_answerable": ("无权处理此预警", "此预警已不由您负责（包保关系可能已调整）。"),
    "forbidden": ("无权查看此预警", "此预警不在您或您所属上报链的负责范围内。"),
    "not_found": ("预警不存在", "未找到这条预警，它可能已被清理。"),
    "login": ("请先登录", "查看预警列表需要使用个人令牌登录。"),
    "csrf": ("页面已失效", "表单已过期或来源不明，操作未执行。请重新打开页面后再试。"),
    "cross_site": ("请求被拒绝", "该请求来自其他网站，操作未执行。"),
}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Pages:
    def __init__(self, app: FastAPI, config: ConfigSet, keys: Keys, *, public_url: str, link_ttl_s: float,
                 session_ttl_s: float, timezone: str, link_clock: Callable[[], datetime] | None = None):
        api = app.state.api
        self.engine: sa.Engine = api.engine
        self.assignments = api.assignments
        self.clock: Callable[[], datetime] = api.clock
        self.config, self.keys = config, keys
        self.public_url = public_url.rstrip("/")
        self.timezone = timezone
        self.session_ttl_s = session_ttl_s
        self.link_ttl_s = link_ttl_s
        self.signer = LinkSigner(keys, public_url, link_ttl_s, clock=link_clock or self.clock)
        self.secure_cookies = public_url.startswith("https://")
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(level_zh=view.level_zh, public_url=self.public_url)
        self.env.filters["score"] = score_text
        self.css = (HERE / "static" / "page.css").read_bytes()

    # -- rendering --------------------------------------------------------------------------------

    def render(self, template: str, status: int = 200, **ctx) -> HTMLResponse:
        html = self.env.get_template(template).render(**ctx)
        return HTMLResponse(html, status_code=status, headers=security.PAGE_HEADERS)

    def refusal(self, r: Refusal) -> HTMLResponse:
        title, text = MESSAGES[r.kind]
        hours = self.link_ttl_s / 3600
        text = text.format(ttl=f"{hours:g} 小时" if hours >= 1 else f"{self.link_ttl_s:g} 秒")
        show_api = r.kind in ("invalid", "expired", "used", "not_answerable", "login")
        return self.render("message.html", r.status, title=title, text=text, detail=r.detail,
                           alert_id=r.alert_id, show_api=show_api, show_login=r.kind != "cross_site")

    def redirect(self, url: str) -> Response:
        return RedirectResponse(url, status_code=303, headers=security.PAGE_HEADERS)

    # -- who is asking ----------------------------------------------------------------------------

    def session_principal(self, request: Request) -> tuple[Principal, security.Session] | None:
        session = security.read_session(self.keys.session, request.cookies.get(security.SESSION_COOKIE),
                                        now=self.clock().timestamp())
        if session is None:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(auth.TOKENS).where(auth.TOKENS.c.token_hash == session.token_hash)).first()
        if row is None or row.revoked_at is not None or row.role not in PAGE_ROLES:
            return None
        return Principal(row.actor, row.role, row.leader_id), session

    def link_access(self, alert_id: str, token: str) -> Access:
        try:
            claim = self.signer.verify(alert_id, token, self.clock())
        except LinkRefused as exc:
            raise Refusal(exc.reason, 403 if exc.reason == "invalid" else 410, alert_id) from None
        with self.engine.connect() as conn:
            used = conn.execute(sa.select(USED.c.nonce).where(USED.c.nonce == claim.nonce)).first()
        if used is not None:
            raise Refusal("used", 410, alert_id)
        if claim.leader_id not in self.assignments.leaders:
            raise Refusal("not_answerable", 403, alert_id)
        principal = Principal(f"link:{claim.leader_id}", "leader", claim.leader_id)
        return Access(principal, "link", f"link:{claim.nonce}", claim)

    def access(self, request: Request, alert_id: str, token: str | None) -> Access:
        if token:
            return self.link_access(alert_id, token)
        found = self.session_principal(request)
        if found is None:
            raise Refusal("login", 401, alert_id)
        principal, session = found
        return Access(principal, "session", f"session:{session.sid}")

    def load(self, alert_id: str, who: Access) -> records.AlertRecord:
        with self.engine.connect() as conn:
            alert = records.get_alert(conn, alert_id)
        if alert is None:
            raise Refusal("not_found", 404, alert_id)
        try:
            if who.via == "link":
                check_act(who.principal, alert, self.assignments)
            else:
                check_see(who.principal, alert, self.assignments)
        except Forbidden:
            raise Refusal("not_answerable" if who.via == "link" else "forbidden", 403, alert_id) from None
        return alert

    def may_act(self, who: Access, alert: records.AlertRecord) -> bool:
        try:
            check_act(who.principal, alert, self.assignments)
            return True
        except Forbidden:
            return False

    def check_form(self, request: Request, who: Access, scope: str, csrf: str | None) -> None:
        if security.cross_site(request.headers, self.public_url) and security.cross_site(
                request.headers, f"{request.url.scheme}://{request.headers.get('host', '')}"):
            raise Refusal("cross_site", 403, None)
        if not security.csrf_ok(self.keys.csrf, csrf, who.binding, scope, now=self.clock().timestamp()):
            raise Refusal("csrf", 403, None)

    # -- the alert page ---------------------------------------------------------------------------

    def alert_page(self, alert: records.AlertRecord, who: Access, token: str | None, status: int = 200,
                   done: str | None = None, error: str | None = None, note: str = "", reason: str = "") -> HTMLResponse:
        now = self.clock()
        with self.engine.connect() as conn:
            page = view.build(conn, self.config, alert, now, self.timezone)
        link_spent = who.via == "link" and done is not None
        can_act = not link_spent and self.may_act(who, alert)
        csrf = security.csrf_token(self.keys.csrf, who.binding, alert.alert_id, now=now.timestamp())
        return self.render(
            "alert.html", status, v=page, who=who, token=None if link_spent else token, csrf=csrf,
            can_ack=can_act and alert.status == "open", can_close=can_act and alert.status in OPEN_STATUSES,
            done=done, error=error, note=note, reason=reason, link_spent=link_spent,
            expires=(view.Clocktext(self.timezone).full(who.claim.expires_at) if who.claim else None),
        )

    def act(self, request: Request, alert_id: str, action: str, token: str | None, csrf: str | None,
            text: str) -> HTMLResponse:
        who = self.access(request, alert_id, token)
        self.check_form(request, who, alert_id, csrf)
        alert = self.load(alert_id, who)
        text = (text or "").strip()
        if action == "close" and not text:
            return self.alert_page(alert, who, token, 422, error="请填写处置情况或关闭原因。", note="", reason="")
        if len(text) > MAX_TEXT:
            field = {"note": text} if action == "ack" else {"reason": text}
            return self.alert_page(alert, who, token, 422, error=f"内容过长（最多 {MAX_TEXT} 字）。", **field)
        now = self.clock()
        authorize = lambda a: check_act(who.principal, a, self.assignments)  # noqa: E731
        try:
            with self.engine.begin() as conn:
                if who.claim is not None:
                    self._use_link(conn, who.claim, action, now)
                if action == "ack":
                    changed = actions.acknowledge(conn, alert_id, who.principal.actor, text or None, now,
                                                  authorize=authorize)
                else:
                    changed = actions.close(conn, alert_id, who.principal.actor, text, now, authorize=authorize)
        except sa.exc.IntegrityError:
            if who.claim is not None and self._is_used(who.claim):
                raise Refusal("used", 410, alert_id) from None
            raise
        except Forbidden:
            raise Refusal("not_answerable" if who.via == "link" else "forbidden", 403, alert_id) from None
        except actions.AlertNotFound:
            raise Refusal("not_found", 404, alert_id) from None
        except actions.InvalidTransition:
            with self.engine.connect() as conn:
                current = records.get_alert(conn, alert_id) or alert
            state = label(ALERT_STATES, current.status)
            return self.alert_page(current, who, token, 409, error=f"预警当前状态为“{state}”，此操作未执行。")
        log.info("alert %s %s via the alert page (%s) by %s", alert_id, "acknowledged" if action == "ack" else "closed",
                 who.via, who.principal.leader_id or who.principal.actor)
        return self.alert_page(changed, who, token, 200, done=action)

    def _use_link(self, conn: sa.Connection, claim: LinkClaim, action: str, now: datetime) -> None:
        conn.execute(USED.delete().where(USED.c.expires_at < (now - timedelta(days=1)).astimezone(UTC)))
        conn.execute(USED.insert().values(nonce=claim.nonce, alert_id=claim.alert_id, leader_id=claim.leader_id,
                                          action=action, used_at=now, expires_at=claim.expires_at))

    def _is_used(self, claim: LinkClaim) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(USED.c.nonce).where(USED.c.nonce == claim.nonce)).first() is not None

    # -- the list page and login ------------------------------------------------------------------

    def list_page(self, request: Request, level: str | None, building: str | None) -> Response:
        found = self.session_principal(request)
        if found is None:
            return self.redirect("/login")
        principal, session = found
        levels = [name for name, _ in self.config.rules.levels]
        level = level if level in levels else None
        building = (building or "").strip()[:64] or None
        scope = visible_assignees(principal, self.assignments)
        with self.engine.connect() as conn:
            every = records.list_alerts(conn, statuses=OPEN_STATUSES, assignees=scope, limit=1000)
        buildings = sorted({a.building for a in every if a.building})
        shown = [a for a in every if (level is None or a.level == level) and (building is None or a.building == building)]
        rank = self.config.rules.rank
        shown.sort(key=lambda a: (-rank(a.level) if a.level in levels else 0, -a.raised_at.timestamp(), a.alert_id))
        clock = view.Clocktext(self.timezone)
        rows = [{
            "id": a.alert_id, "level": a.level, "entity": view.entity_parts(a.entity), "ref": a.entity,
            "building": a.building, "score": a.score, "raised": clock.full(a.raised_at),
            "status": label(ALERT_STATES, a.status), "open": a.status == "open",
        } for a in shown]
        now = self.clock()
        who = principal.leader_id and view.leader_label(self.config, principal.leader_id) or principal.actor
        return self.render("list.html", rows=rows, total=len(every), levels=levels, level=level, buildings=buildings,
                           building=building, who=who, actor=principal.actor,
                           csrf=security.csrf_token(self.keys.csrf, f"session:{session.sid}", "logout", now.timestamp()))

    def login_form(self, request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
        nonce = request.cookies.get(security.LOGIN_COOKIE)
        if not nonce or len(nonce) != 22:
            nonce = security.new_login_nonce()
        csrf = security.csrf_token(self.keys.csrf, f"login:{nonce}", "login", self.clock().timestamp())
        response = self.render("login.html", status, csrf=csrf, error=error)
        response.set_cookie(security.LOGIN_COOKIE, nonce, max_age=3600, path="/login", httponly=True,
                            samesite="strict", secure=self.secure_cookies)
        return response

    def login(self, request: Request, token: str, csrf: str | None) -> Response:
        nonce = request.cookies.get(security.LOGIN_COOKIE) or ""
        if security.cross_site(request.headers, self.public_url) and security.cross_site(
                request.headers, f"{request.url.scheme}://{request.headers.get('host', '')}"):
            raise Refusal("cross_site", 403)
        if not nonce or not security.csrf_ok(self.keys.csrf, csrf, f"login:{nonce}", "login", self.clock().timestamp()):
            return self.login_form(request, 403, "登录表单已失效，请重新输入。")
        try:
            info = auth.identify(self.engine, (token or "").strip())
        except auth.AccessDenied:
            log.info("alert page login refused: unknown or revoked token")
            return self.login_form(request, 401, "令牌无效或已停用。")
        if info.role not in PAGE_ROLES or (info.role == "leader" and not info.leader_id):
            return self.login_form(request, 403, "此页面供包保领导使用：该令牌的角色不能处理预警。")
        audit.record(self.engine, info.actor, AUDIT_LOGIN, {"token_sha256_prefix": info.token_hash[:12]}, at=self.clock())
        response = self.redirect("/alerts")
        response.set_cookie(security.SESSION_COOKIE,
                            security.session_cookie(self.keys.session, info.token_hash, self.session_ttl_s,
                                                    now=self.clock().timestamp()),
                            max_age=int(self.session_ttl_s), path="/", httponly=True, samesite="strict",
                            secure=self.secure_cookies)
        response.delete_cookie(security.LOGIN_COOKIE, path="/login")
        return response

    def logout(self, request: Request, csrf: str | None) -> Response:
        found = self.session_principal(request)
        if found is not None:
            _, session = found
            if security.cross_site(request.headers, self.public_url) and security.cross_site(
                    request.headers, f"{request.url.scheme}://{request.headers.get('host', '')}"):
                raise Refusal("cross_site", 403)
            if not security.csrf_ok(self.keys.csrf, csrf, f"session:{session.sid}", "logout", self.clock().timestamp()):
                raise Refusal("csrf", 403)
        response = self.redirect("/login")
        response.delete_cookie(security.SESSION_COOKIE, path="/")
        return response


def mount(app: FastAPI, config: ConfigSet, keys: Keys, *, public_url: str, link_ttl_s: float = 72 * 3600,
          session_ttl_s: float = 12 * 3600, timezone: str = "Asia/Shanghai",
          link_clock: Callable[[], datetime] | None = None) -> Pages:
    """Add the pages to an app made by pipeline.api.app.create_app (its `Api` gives database,
    assignments and clock)."""
    pages = Pages(app, config, keys, public_url=public_url, link_ttl_s=link_ttl_s, session_ttl_s=session_ttl_s,
                  timezone=timezone, link_clock=link_clock)
    security.install_log_redaction()
    router = APIRouter(include_in_schema=False)

    def guarded(fn):
        try:
            return fn()
        except Refusal as r:
            return pages.refusal(r)

    @router.get("/static/page.css")
    def stylesheet() -> Response:
        return Response(pages.css, media_type="text/css; charset=utf-8", headers=security.STATIC_HEADERS)

    @router.get("/a/{alert_id}", response_class=HTMLResponse)
    def alert_page(request: Request, alert_id: str, t: str | None = None) -> Response:
        def page():
            who = pages.access(request, alert_id, t)
            return pages.alert_page(pages.load(alert_id, who), who, t)
        return guarded(page)

    @router.post("/a/{alert_id}/ack", response_class=HTMLResponse)
    def ack(request: Request, alert_id: str, t: str | None = Form(None, max_length=200),
            csrf: str | None = Form(None, max_length=100), note: str = Form("", max_length=4000)) -> Response:
        return guarded(lambda: pages.act(request, alert_id, "ack", t, csrf, note))

    @router.post("/a/{alert_id}/close", response_class=HTMLResponse)
    def close(request: Request, alert_id: str, t: str | None = Form(None, max_length=200),
              csrf: str | None = Form(None, max_length=100), reason: str = Form("", max_length=4000)) -> Response:
        return guarded(lambda: pages.act(request, alert_id, "close", t, csrf, reason))

    def alert_list(request: Request, level: str | None = None, building: str | None = None) -> Response:
        return guarded(lambda: pages.list_page(request, level, building))

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return pages.login_form(request)

    @router.post("/login", response_class=HTMLResponse)
    def login(request: Request, token: str = Form("", max_length=200),
              csrf: str | None = Form(None, max_length=100)) -> Response:
        return guarded(lambda: pages.login(request, token, csrf))

    @router.post("/logout", response_class=HTMLResponse)
    def logout(request: Request, csrf: str | None = Form(None, max_length=100)) -> Response:
        return guarded(lambda: pages.logout(request, csrf))

    app.include_router(router)
    # the browser-only /alerts must be tried before the JSON API's /alerts: first in the list
    app.router.add_api_route("/alerts", alert_list, methods=["GET"], include_in_schema=False,
                             response_class=HTMLResponse, route_class_override=BrowserRoute)
    app.router.routes.insert(0, app.router.routes.pop())
    app.state.pages = pages
    return pages


def mount_from_settings(app: FastAPI, config: ConfigSet, settings) -> Pages:
    """`mount` with the settings' secret, public_url, link_ttl, session_ttl and timezone;
    links.LinkSecretMissing (one line) when the secret is unset or too short."""
    keys = Keys.from_settings(settings)
    return mount(app, config, keys, public_url=settings.public_url, link_ttl_s=settings.link_ttl_seconds,
                 session_ttl_s=settings.session_ttl_seconds, timezone=settings.timezone)
