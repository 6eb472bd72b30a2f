"""HTTP ingest (docs/contract.md §9): POST /v1/events and GET /v1/health, as an APIRouter.

    POST /v1/events   Authorization: Bearer <source token>
                      Content-Type: application/x-ndjson | application/json
    GET  /v1/health   200 when events can be accepted, else 503

Order of the checks, each refusing before the next step: the body limit (413 from Content-Length,
before authentication and before a byte of the body is read: the api guard's BodyLimit middleware
when the app has it, and this route's own check), the source token (401, WWW-Authenticate: Bearer),
the content type (415), then the body is read with a running byte count (413 as soon as it passes
the limit). Every item gets a verdict (pipeline/ingest/items.py); the accepted events and the
rejected items go to the sink together, and the 200 is sent only once the sink has made both durable
(rejections are kept as everywhere else in riskwatch: docs/ingest.md, "Rejected items"). A sink that
cannot take them gives 503 with Retry-After, and none of the request counts as accepted or kept.

One JSON log line per request (logger riskwatch.ingest): source, status, items, accepted, rejected,
reasons, the request's id when it had rejections (the start of the body's SHA-256, which names
the rejections kept), bytes, milliseconds; never the events.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from pipeline.contract import Vocabulary
from pipeline.errors import AccessDenied, ServiceUnavailable
from pipeline.ingest import sources
from pipeline.ingest.items import CONTENT_TYPES, judge, media_type, request_id, split_items
from pipeline.ingest.sink import EventSink, database_ready

log = logging.getLogger("riskwatch.ingest")
RETRY_AFTER_S = 5


def _json(status: int, doc: dict, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(doc), status_code=status, media_type="application/json", headers=headers)


def _bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def ingest_router(bind: sa.Engine, vocab: Vocabulary, sink: EventSink, *, body_limit: int, max_skew: float,
                  wall: Callable[[], float] = time.time) -> APIRouter:
    """The routes; `bind` holds the source tokens, `sink` makes accepted events durable."""
    router = APIRouter(tags=["ingest"])

    def done(started: float, status: int, name: str | None, **fields) -> None:
        log.info("ingest request", extra={"route": "POST /v1/events", "status": status, "source_name": name,
                                          "ms": round((time.perf_counter() - started) * 1000, 1), **fields})

    @router.post("/v1/events", summary="Post events (NDJSON, or JSON: one object or an array)",
                 responses={401: {}, 413: {}, 415: {}, 503: {}})
    async def post_events(request: Request) -> Response:
        started = time.perf_counter()
        length = request.headers.get("content-length")
        if length is not None and (not length.strip().isdigit() or int(length) > body_limit):
            done(started, 413, None, bytes=length)
            return _json(413, {"detail": f"request body over the limit of {body_limit} bytes"})
        try:
            token = await run_in_threadpool(sources.identify, bind, _bearer(request.headers.get("authorization")))
        except AccessDenied as exc:
            done(started, 401, None)
            return _json(401, {"detail": str(exc)}, {"WWW-Authenticate": "Bearer"})
        except sa.exc.DBAPIError:
            done(started, 503, None, error="token store unavailable")
            return _json(503, {"detail": "the database cannot be reached"}, {"Retry-After": str(RETRY_AFTER_S)})
        kind = media_type(request.headers.get("content-type"))
        if kind is None:
            done(started, 415, token.name)
            return _json(415, {"detail": f"Content-Type must be {' or '.join(CONTENT_TYPES)}"})
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > body_limit:
                done(started, 413, token.name, bytes=len(body))
                return _json(413, {"detail": f"request body over the limit of {body_limit} bytes"},
                             {"Connection": "close"})
        data = bytes(body)
        verdicts = judge(split_items(data, kind), vocab, token.source, wall(), max_skew)
        rid = request_id(data) if verdicts.refused else None
        rejections = verdicts.rejections(token.name, rid) if rid else []
        if verdicts.accepted or rejections:
            try:
                await sink.accept(verdicts.accepted, rejections)
            except ServiceUnavailable as exc:
                done(started, 503, token.name, items=len(verdicts.results), request=rid, error=str(exc))
                return _json(503, {"detail": "events cannot be accepted now; nothing of this request was "
                                             "accepted, resend it whole"}, {"Retry-After": str(RETRY_AFTER_S)})
        done(started, 200, token.name, items=len(verdicts.results), accepted=len(verdicts.accepted),
             rejected=verdicts.rejected, reasons=verdicts.reasons, request=rid, bytes=len(body))
        return _json(200, verdicts.body())

    @router.get("/v1/health", summary="200 when events can be accepted, else 503")
    async def health() -> Response:
        tokens_ok = await run_in_threadpool(database_ready, bind)
        sink_ok = tokens_ok and await sink.ready()
        if tokens_ok and sink_ok:
            return _json(200, {"ok": True})
        return _json(503, {"ok": False, "database": tokens_ok, "sink": sink_ok}, {"Retry-After": str(RETRY_AFTER_S)})

    return router


def mount_ingest(app, bind: sa.Engine, vocab: Vocabulary, sink: EventSink, *, body_limit: int, max_skew: float) -> None:
    """Add the routes to `app`; with the api guard installed (app.state.guards), its BodyLimit
    middleware gets the ingest limit for /v1/events too."""
    guards = getattr(app.state, "guards", None)
    if guards is not None:
        guards.limit("/v1/events", body_limit)
    app.include_router(ingest_router(bind, vocab, sink, body_limit=body_limit, max_skew=max_skew))
