"""The alert API: list, show, acknowledge, close — bearer tokens with roles.

    GET  /alerts                    alerts the caller may see (leaders: theirs and their chain's)
    GET  /alerts/{alert_id}         one alert with its history and deliveries
    POST /alerts/{alert_id}/ack     {"note": "..."} optional body
    POST /alerts/{alert_id}/close   {"reason": "..."} required
    GET  /healthz                   liveness, no token
    GET  /openapi.json, /docs       the OpenAPI document (/docs: a plain page, no script: docs.py)

Tokens are pipeline/auth.py's (`riskwatch tokens create`); only their sha256 is stored. 401 for a
missing/unknown/revoked token (one message for all three, checked before a body is read:
guard.py), 413 for a body over `body_limit`, 403 for a role or an alert the caller may not act on, 404 for an
unknown alert, 409 for an action the alert's state does not allow, 422 for a bad body or NUL /
lone surrogates anywhere (the 422 names the fields, never echoes the input). A refusal
changes nothing in the database: checks run before, or inside the transaction of, any write.
The leader's alert pages (pipeline/web) mount their routes on `create_app(...)` and reuses `Api`.
"""


from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from pipeline import auth
from pipeline.alerting import actions, records
from pipeline.alerting.access import Forbidden, Principal, check_act, check_see, visible_assignees
from pipeline.api import cases as case_routes
from pipeline.api import guard
from pipeline.api.docs import mount_docs
from pipeline.api.errors import register_error_handlers
from pipeline.api.schemas import (
    AckIn,
    AlertDetailOut,
    AlertListOut,
    AlertOut,
    CloseIn,
    ErrorOut,
    Status,
)
from pipeline.assignments import Assignments

_bearer = HTTPBearer(auto_error=False, description="A token from `riskwatch tokens create`")
_UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}
# one message for missing, unknown, revoked and expired tokens: a caller learns nothing about which
UNAUTHORIZED = "missing, unknown or revoked token"
DEFAULT_BODY_LIMIT = 64 * 1024
_ERRORS: dict[int | str, dict[str, Any]] = {401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 404: {"model": ErrorOut}}


class Api:
    """What the routes need: the database, the assignments (scope of leaders) and a clock."""

    def __init__(self, engine: sa.Engine, assignments: Assignments,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.engine, self.assignments, self.clock = engine, assignments, clock

    def principal(self, token: str | None) -> Principal:
        try:
            info = auth.identify(self.engine, token)
        except auth.AccessDenied:
            raise HTTPException(401, UNAUTHORIZED, headers=_UNAUTHORIZED) from None
        return Principal(info.actor, info.role, info.leader_id)

    def bearer_ok(self, headers) -> bool:
        """For guard.AuthFirst: the Authorization header holds an active token (before the body is read)."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        try:
            auth.identify(self.engine, token.strip())
        except auth.AccessDenied:
            return False
        return True


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 naming where and what, without the input (a 4 MB body is not sent back)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))[:200], "type": e.get("type", "")}
              for e in errors[:20]]
    return JSONResponse({"detail": detail}, status_code=422)


def create_app(engine: sa.Engine, assignments: Assignments,
               clock: Callable[[], datetime] = lambda: datetime.now(UTC),
               body_limit: int = DEFAULT_BODY_LIMIT) -> FastAPI:
    """The API app. `app.state.guards` (guard.Guards) takes more body limits and credential checks
    from routes added later (the pages, HTTP ingest)."""
    api = Api(engine, assignments, clock)
    app = FastAPI(
        title="riskwatch alerts",
        version="1",
        summary="Alerts of the 虹都中心 risk monitoring: list, acknowledge, close.",
        description="Bearer tokens from `riskwatch tokens create`. Entities are pseudonymous references.",
        docs_url=None, redoc_url=None,
    )
    app.state.api = api
    guards = guard.install(app, body_limit)
    for prefix in ("/alerts/", "/cases/", "/decisions"):     # the bearer-token routes that take a body
        guards.require(prefix, ("POST",), api.bearer_ok, "Bearer")
    app.add_exception_handler(RequestValidationError, _validation_error)
    register_error_handlers(app)
    mount_docs(app)

    def principal(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
        return api.principal(creds.credentials if creds else None)

    Caller = Annotated[Principal, Depends(principal)]

    def load(alert_id: str) -> records.AlertRecord:
        with engine.connect() as conn:
            alert = records.get_alert(conn, alert_id)
        if alert is None:
            raise HTTPException(404, f"no alert {alert_id}")
        return alert

    def refuse(exc: Exception) -> HTTPException:
        if isinstance(exc, Forbidden):
            return HTTPException(403, str(exc))
        if isinstance(exc, actions.AlertNotFound):
            return HTTPException(404, str(exc))
        if isinstance(exc, actions.InvalidTransition):
            return HTTPException(409, str(exc))
        raise exc

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"ok": True}

    @app.get("/alerts", response_model=AlertListOut, responses=_ERRORS, summary="Alerts the caller may see")
    def list_alerts(
        caller: Caller,
        status: Annotated[list[Status] | None, Query(description="Filter by status (repeatable)")] = None,
        level: Annotated[list[str] | None, Query(description="Filter by level (repeatable)")] = None,
        building: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> AlertListOut:
        scope = visible_assignees(caller, assignments)
        with engine.connect() as conn:
            found = records.list_alerts(conn, statuses=status, levels=level, assignees=scope,
                                        building=building, limit=limit)
        return AlertListOut(alerts=[AlertOut(**a.as_dict()) for a in found])

    @app.get("/alerts/{alert_id}", response_model=AlertDetailOut, responses=_ERRORS,
             summary="One alert with its history and notification deliveries")
    def show_alert(alert_id: str, caller: Caller) -> AlertDetailOut:
        alert = load(alert_id)
        try:
            check_see(caller, alert, assignments)
        except Forbidden as exc:
            raise refuse(exc) from None
        with engine.connect() as conn:
            history = [h.as_dict() for h in records.history_of(conn, alert_id)]
            deliveries = records.deliveries_of(conn, alert_id)
        return AlertDetailOut.model_validate({**alert.as_dict(), "history": history, "deliveries": deliveries})

    @app.post("/alerts/{alert_id}/ack", response_model=AlertOut, responses={**_ERRORS, 409: {"model": ErrorOut}},
              summary="Acknowledge an open alert (stops escalation)")
    def ack(alert_id: str, caller: Caller, body: AckIn | None = None) -> AlertOut:
        try:
            alert = actions.acknowledge(engine, alert_id, caller.actor, body.note if body else None, api.clock(),
                                        authorize=lambda a: check_act(caller, a, assignments), assignments=assignments)
        except (Forbidden, actions.AlertNotFound, actions.InvalidTransition) as exc:
            raise refuse(exc) from None
        return AlertOut(**alert.as_dict())

    @app.post("/alerts/{alert_id}/close", response_model=AlertOut, responses={**_ERRORS, 409: {"model": ErrorOut}},
              summary="Close an alert by hand, with a reason")
    def close(alert_id: str, caller: Caller, body: CloseIn) -> AlertOut:
        try:
            alert = actions.close(engine, alert_id, caller.actor, body.reason, api.clock(),
                                  authorize=lambda a: check_act(caller, a, assignments), assignments=assignments)
        except (Forbidden, actions.AlertNotFound, actions.InvalidTransition) as exc:
            raise refuse(exc) from None
        return AlertOut(**alert.as_dict())

    case_routes.register(app)   # cases, decisions, the weekly brief (pipeline/api/cases.py)
    return app
