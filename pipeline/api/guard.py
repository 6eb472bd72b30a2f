"""ASGI middleware that guards every HTTP route before FastAPI reads anything.

    BodyLimit   a request body over its path's limit gets 413 before it is read: at once when
                Content-Length says so, else as soon as the streamed bytes pass the limit (the
                body is never buffered beyond limit + one chunk). Reusable: give it limits per
                path prefix, e.g. `BodyLimit(app, 64 * 1024, {"/v1/events": 5 * 1024 * 1024})`.
    AuthFirst   a request to a guarded prefix whose credentials do not check out gets 401 before
                its body is read or parsed (the check sees only the headers).
    TextGuard   NUL bytes, bytes that are not UTF-8 and lone surrogates in the path or the query
                string get 422 (never a 500 from the database or a template).
    NoStore     every response without its own Cache-Control gets `no-store` and `nosniff`.

Order in `install`: NoStore (outermost, so refusals carry it too), BodyLimit, TextGuard, AuthFirst.
Refusals are small JSON bodies `{"detail": "..."}` that never echo the input.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote_to_bytes

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
HeaderCheck = Callable[[Mapping[str, str]], bool]

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def refuse(send: Send, status: int, detail: str, headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}, ensure_ascii=False).encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})


def headers_of(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or ()}


class BodyLimit:
    """`limits` (path prefix → bytes) may be added to until the app starts: the longest matching
    prefix decides, else `default`."""

    def __init__(self, app: ASGIApp, default: int, limits: dict[str, int] | None = None):
        if default <= 0:
            raise ValueError("the body limit must be positive")
        self.app, self.default = app, default
        self.limits = limits if limits is not None else {}

    def limit_for(self, path: str) -> int:
        matching = [prefix for prefix in self.limits if path.startswith(prefix)]
        return self.limits[max(matching, key=len)] if matching else self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        length = headers_of(scope).get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                await refuse(send, 400, "invalid Content-Length")
                return
            if int(length) > limit:
                await refuse(send, 413, f"request body over the limit of {limit} bytes")
                return
        seen = 0
        started = refused = answered = False

        async def counted() -> Message:
            nonlocal seen, refused, answered
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    # answer now: the app may turn any error of its body reading into its own 400
                    refused = True
                    if not started:
                        answered = True
                        await refuse(send, 413, f"request body over the limit of {limit} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, tracked)


Guard = tuple[str, frozenset[str], HeaderCheck, str]


class AuthFirst:
    """`guards`: (path prefix, methods, check, WWW-Authenticate scheme or ""); a request matching
    one must pass its check. The list may be added to until the app starts."""

    def __init__(self, app: ASGIApp, guards: list[Guard]):
        self.app, self.guards = app, guards

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path, method = scope.get("path", ""), scope.get("method", "GET")
            for prefix, methods, check, scheme in self.guards:
                if path.startswith(prefix) and method in methods and not check(headers_of(scope)):
                    extra = [(b"www-authenticate", scheme.encode())] if scheme else []
                    await refuse(send, 401, "missing, unknown or revoked credentials", extra)
                    return
        await self.app(scope, receive, send)


def bad_text(raw: bytes) -> bool:
    """True for percent-decoded bytes holding NUL or not being UTF-8 (lone surrogates are not)."""
    if b"\x00" in raw:
        return True
    try:
        raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        return True
    return False


def bad_str(text: str) -> bool:
    """True for text holding NUL or a lone surrogate (what JSON's \\u0000 and \\ud800 decode to)."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8", errors="strict")
    except UnicodeEncodeError:
        return True
    return False


class TextGuard:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw_path = scope.get("raw_path") or scope.get("path", "").encode("utf-8", "surrogateescape")
            query = scope.get("query_string") or b""
            if bad_text(unquote_to_bytes(raw_path)) or bad_text(unquote_to_bytes(query.replace(b"+", b" "))) \
                    or bad_str(scope.get("path", "")):
                await refuse(send, 422, "the path or query holds NUL bytes or text that is not UTF-8")
                return
        await self.app(scope, receive, send)


class NoStore:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


class Guards:
    """What `install` put on an app (`app.state.guards`): routes added later register here, e.g.
    `app.state.guards.limit("/v1/events", settings.ingest_body_limit)` and
    `app.state.guards.require("/v1/", {"POST"}, token_ok, "Bearer")`."""

    def __init__(self) -> None:
        self.limits: dict[str, int] = {}
        self.auth: list[Guard] = []

    def limit(self, prefix: str, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("the body limit must be positive")
        self.limits[prefix] = max_bytes

    def require(self, prefix: str, methods: Iterable[str], check: HeaderCheck, scheme: str = "") -> None:
        self.auth.append((prefix, frozenset(m.upper() for m in methods), check, scheme))


def install(app, body_limit: int) -> Guards:
    """Add the four to a FastAPI/Starlette app (each `add_middleware` wraps the previous ones) and
    return their registry, also kept as `app.state.guards`."""
    guards = Guards()
    app.add_middleware(AuthFirst, guards=guards.auth)
    app.add_middleware(TextGuard)
    app.add_middleware(BodyLimit, default=body_limit, limits=guards.limits)
    app.add_middleware(NoStore)
    app.state.guards = guards
    return guards
