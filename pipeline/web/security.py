"""Security pieces of the alert pages: CSRF tokens, login sessions, response headers, and
keeping link tokens out of the logs.

CSRF. Every form carries a hidden `csrf` value = issue time + HMAC(csrf key, binding, scope, time).
The binding is a secret the attacker's page cannot know or set: the link token's nonce (link pages),
the login session's id (pages opened while logged in), or the random `rw_login` cookie (the login
form: double submit). The scope is the alert id (or "login"/"logout"), so a value for one form is
refused by another. On top, a POST whose browser says it came from another site (Sec-Fetch-Site
cross-site/same-site, or an Origin that is not ours) is refused before anything else; cookies are
SameSite=Strict and HttpOnly. All comparisons of secrets use hmac.compare_digest.

Sessions. `/login` takes a personal token (`riskwatch tokens create ACTOR --role leader --leader
L01`) and starts a server-side session (sessions.py): the cookie `rw_session` is a random value,
the database keeps its hash; `POST /logout` ends it on the server.

Headers. Every response (pipeline/api/guard.py adds them to the JSON API's too): Cache-Control
no-store, nosniff. Every page: a Content-Security-Policy allowing only our own stylesheet and forms posting
to ourselves (no script at all), Referrer-Policy no-referrer (the link token never leaves in a
Referer), Cache-Control no-store (alert pages are not kept by browsers or proxies), nosniff, no
framing.

Logs. uvicorn's access log prints the request line, query string included: `RedactLinkTokens`
replaces the value of every `t=` parameter with `…` there (installed by pages.mount).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import time

from pipeline.web.links import b64e

CSRF_MAX_AGE_S = 12 * 3600
SESSION_COOKIE = "rw_session"
LOGIN_COOKIE = "rw_login"

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
STATIC_HEADERS = {**PAGE_HEADERS, "Cache-Control": "public, max-age=3600"}


def equal(a: str | bytes, b: str | bytes) -> bool:
    """Constant-time comparison of two secrets (text is compared as UTF-8)."""
    a = a.encode("utf-8") if isinstance(a, str) else a
    b = b.encode("utf-8") if isinstance(b, str) else b
    return hmac.compare_digest(a, b)


# -- CSRF -----------------------------------------------------------------------------------------


def _csrf_mac(key: bytes, binding: str, scope: str, issued: int) -> str:
    message = b"\x00".join((b"csrf/1", binding.encode("utf-8"), scope.encode("utf-8"), str(issued).encode()))
    return b64e(hmac.new(key, message, hashlib.sha256).digest())


def csrf_token(key: bytes, binding: str, scope: str, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    return f"{issued}.{_csrf_mac(key, binding, scope, issued)}"


def csrf_ok(key: bytes, token: str | None, binding: str, scope: str, now: float | None = None,
            max_age: float = CSRF_MAX_AGE_S) -> bool:
    if not token or len(token) > 100 or "." not in token:
        return False
    issued_text, mac = token.split(".", 1)
    if not issued_text.isdigit():
        return False
    issued = int(issued_text)
    now = time.time() if now is None else now
    if not (issued - 300 <= now <= issued + max_age):
        return False
    return equal(_csrf_mac(key, binding, scope, issued), mac)


def cross_site(headers, own_origin: str) -> bool:
    """True when the browser tells us the request was made by another site's page."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return True
    origin = headers.get("origin")
    # With Referrer-Policy no-referrer a same-origin form POST carries `Origin: null`.
    return origin is not None and origin != "null" and origin.rstrip("/") != own_origin.rstrip("/")


# -- login form -----------------------------------------------------------------------------------


def new_login_nonce() -> str:
    return b64e(secrets.token_bytes(16))


# -- logs -----------------------------------------------------------------------------------------

_TOKEN_PARAM = re.compile(r"([?&]t=)[^&\s\"]*")


def redact(text: str) -> str:
    return _TOKEN_PARAM.sub(r"\1…", text)


class RedactLinkTokens(logging.Filter):
    """Blanks the `t=` query parameter (the link token) in log records (uvicorn.access and others)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "t=" in record.msg:
            record.msg = redact(record.msg)
        if record.args:
            if isinstance(record.args, tuple):
                record.args = tuple(redact(a) if isinstance(a, str) and "t=" in a else a for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: redact(v) if isinstance(v, str) and "t=" in v else v for k, v in record.args.items()}
        return True


def install_log_redaction(names=("uvicorn.access", "uvicorn.error", "uvicorn")) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactLinkTokens) for f in logger.filters):
            logger.addFilter(RedactLinkTokens())
