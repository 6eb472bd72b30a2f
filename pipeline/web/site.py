"""What every page of the pages server shares: templates, the Chinese refusal
pages, logins and server-side sessions, CSRF and cross-site checks, the security headers.

    GET  /login, POST /login    log in with a personal token (riskwatch tokens create); leaders go
                                to their alert list, analysts and admins to the workspace (/w)
    POST /logout                ends the session on the server (sessions.py)
    GET  /static/page.css       the stylesheet (no CDN, no script anywhere)

pages.py (the leader's alert pages and phone flow) and workspace.py (the analyst's workspace) are
mounted on the same Site by `pipeline.web.pages.mount`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipeline import audit, auth, labels
from pipeline.alerting.access import Principal
from pipeline.api.guard import bad_str
from pipeline.configset import ConfigSet
from pipeline.errors import RiskwatchError
from pipeline.web import security, sessions
from pipeline.web.links import Keys

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
AUDIT_LOGIN = "page_login"
PAGE_ROLES = ("leader", "analyst", "admin")
WORKSPACE_ROLES = ("analyst", "admin")


class Refusal(RiskwatchError):
    """A page request refused: shown as a Chinese message page (`Site.guarded`), `kind` picks the
    text, `status` the HTTP status (401, 403, 404, 410, 422)."""

    def __init__(self, kind: str, status: int, alert_id: str | None = None, detail: str = ""):
        super().__init__(kind)
        self.kind, self.status, self.alert_id, self.detail = kind, status, alert_id, detail


MESSAGES = {
    "invalid": ("链接无效", "此链接无法识别：可能不完整、被改动、已被停用，或不属于这条预警。请使用最新通知中的链接。"),
    "expired": ("链接已过期", "为保障安全，通知中的链接在有效期（{ttl}）后失效。"),
    "not_answerable": ("无权处理此预警", "此预警已不由您负责（包保关系可能已调整）。"),
    "forbidden": ("无权查看", "此内容不在您的负责范围内。"),
    "not_found": ("未找到", "未找到要查看的内容，它可能已被清理。"),
    "login": ("请先登录", "此页面需要使用个人令牌登录。"),
    "csrf": ("页面已失效", "表单已过期或来源不明，操作未执行。请重新打开页面后再试。"),
    "cross_site": ("请求被拒绝", "该请求来自其他网站，操作未执行。"),
    "bad_text": ("输入有误", "输入中含有无法识别的字符，操作未执行。"),
}


@dataclass(frozen=True)
class Visitor:
    """A logged-in person: who, and the session their forms are bound to (CSRF)."""

    principal: Principal
    session: sessions.Session

    @property
    def binding(self) -> str:
        return f"session:{self.session.sid}"


def clean(text: str | None, limit: int) -> str:
    """Form text trimmed; Refusal for NUL or lone surrogates (422, never a 500 from the database)."""
    text = (text or "").strip()
    if bad_str(text):
        raise Refusal("bad_text", 422)
    return text[:limit] if limit else text


class Site:
    def __init__(self, app: FastAPI, config: ConfigSet, keys: Keys, *, public_url: str, link_ttl_s: float,
                 session_ttl_s: float, timezone: str):
        api = app.state.api
        self.app = app
        self.engine: sa.Engine = api.engine
        self.assignments = api.assignments
        self.clock: Callable[[], datetime] = api.clock
        self.config, self.keys = config, keys
        self.public_url = public_url.rstrip("/")
        self.timezone = timezone
        self.session_ttl_s = session_ttl_s
        self.link_ttl_s = link_ttl_s
        self.secure_cookies = public_url.startswith("https://")
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(level_zh=labels.level_label, public_url=self.public_url, labels=labels)
        self.env.filters["score"] = labels.score_text
        self.css = (HERE / "static" / "page.css").read_bytes()

    # -- rendering --------------------------------------------------------------------------------

    def render(self, template: str, status: int = 200, **ctx: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(**ctx)
        return HTMLResponse(html, status_code=status, headers=security.PAGE_HEADERS)

    def refusal(self, r: Refusal) -> HTMLResponse:
        title, text = MESSAGES[r.kind]
        hours = self.link_ttl_s / 3600
        text = text.format(ttl=f"{hours:g} 小时" if hours >= 1 else f"{self.link_ttl_s:g} 秒")
        show_api = r.kind in ("invalid", "expired", "not_answerable", "login")
        return self.render("message.html", r.status, title=title, text=text, detail=r.detail,
                           alert_id=r.alert_id, show_api=show_api, show_login=r.kind != "cross_site")

    def redirect(self, url: str) -> Response:
        return RedirectResponse(url, status_code=303, headers=security.PAGE_HEADERS)

    def guarded(self, fn: Callable[[], Response], login_redirect: bool = False) -> Response:
        try:
            return fn()
        except Refusal as r:
            if login_redirect and r.kind == "login":
                return self.redirect("/login")
            return self.refusal(r)

    # -- who is asking ----------------------------------------------------------------------------

    def visitor(self, request: Request, roles: tuple[str, ...] = PAGE_ROLES) -> Visitor | None:
        found = sessions.find(self.engine, request.cookies.get(security.SESSION_COOKIE), self.clock())
        if found is None or found.role not in roles:
            return None
        return Visitor(Principal(found.actor, found.role, found.leader_id), found)

    def session_cookie_ok(self, headers) -> bool:
        """For guard.AuthFirst: the request carries a live session cookie (checked before the body)."""
        cookie = headers.get("cookie", "")
        value = next((part.split("=", 1)[1].strip() for part in cookie.split(";")
                      if part.strip().startswith(security.SESSION_COOKIE + "=")), None)
        found = sessions.find(self.engine, value, self.clock())
        return found is not None and found.role in WORKSPACE_ROLES

    def not_cross_site(self, request: Request) -> None:
        if security.cross_site(request.headers, self.public_url) and security.cross_site(
                request.headers, f"{request.url.scheme}://{request.headers.get('host', '')}"):
            raise Refusal("cross_site", 403)

    def check_form(self, request: Request, binding: str, scope: str, csrf: str | None) -> None:
        self.not_cross_site(request)
        if not security.csrf_ok(self.keys.csrf, csrf, binding, scope, now=self.clock().timestamp()):
            raise Refusal("csrf", 403)

    def csrf(self, binding: str, scope: str) -> str:
        return security.csrf_token(self.keys.csrf, binding, scope, now=self.clock().timestamp())

    # -- login ------------------------------------------------------------------------------------

    def login_form(self, request: Request, status: int = 200, error: str | None = None) -> HTMLResponse:
        nonce = request.cookies.get(security.LOGIN_COOKIE)
        if not nonce or len(nonce) != 22:
            nonce = security.new_login_nonce()
        response = self.render("login.html", status, csrf=self.csrf(f"login:{nonce}", "login"), error=error)
        response.set_cookie(security.LOGIN_COOKIE, nonce, max_age=3600, path="/login", httponly=True,
                            samesite="strict", secure=self.secure_cookies)
        return response

    def login(self, request: Request, token: str, csrf: str | None) -> Response:
        nonce = request.cookies.get(security.LOGIN_COOKIE) or ""
        self.not_cross_site(request)
        if not nonce or not security.csrf_ok(self.keys.csrf, csrf, f"login:{nonce}", "login", self.clock().timestamp()):
            return self.login_form(request, 403, "登录表单已失效，请重新输入。")
        try:
            info = auth.identify(self.engine, clean(token, 200))
        except auth.AccessDenied:
            log.info("page login refused: unknown or revoked token")
            return self.login_form(request, 401, "令牌无效或已停用。")
        if info.role not in PAGE_ROLES or (info.role == "leader" and not info.leader_id):
            return self.login_form(request, 403, "该令牌的角色不能使用本页面（限包保领导、研判分析人员和管理员）。")
        now = self.clock()
        cookie = sessions.start(self.engine, info, self.session_ttl_s, now)
        audit.record(self.engine, info.actor, AUDIT_LOGIN, {"token_sha256_prefix": info.token_hash[:12]}, at=now)
        response = self.redirect("/w" if info.role in WORKSPACE_ROLES else "/alerts")
        response.set_cookie(security.SESSION_COOKIE, cookie, max_age=int(self.session_ttl_s), path="/",
                            httponly=True, samesite="strict", secure=self.secure_cookies)
        response.delete_cookie(security.LOGIN_COOKIE, path="/login")
        return response

    def logout(self, request: Request, csrf: str | None) -> Response:
        found = self.visitor(request)
        if found is not None:
            self.check_form(request, found.binding, "logout", csrf)
            sessions.end(self.engine, found.session, self.clock())
        response = self.redirect("/login")
        response.delete_cookie(security.SESSION_COOKIE, path="/")
        return response


def mount_site(app: FastAPI, site: Site) -> None:
    router = APIRouter(include_in_schema=False)

    @router.get("/static/page.css")
    def stylesheet() -> Response:
        return Response(site.css, media_type="text/css; charset=utf-8", headers=security.STATIC_HEADERS)

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        return site.login_form(request)

    @router.post("/login", response_class=HTMLResponse)
    def login(request: Request, token: str = Form("", max_length=200),
              csrf: str | None = Form(None, max_length=100)) -> Response:
        return site.guarded(lambda: site.login(request, token, csrf))

    @router.post("/logout", response_class=HTMLResponse)
    def logout(request: Request, csrf: str | None = Form(None, max_length=100)) -> Response:
        return site.guarded(lambda: site.logout(request, csrf))

    app.include_router(router)
