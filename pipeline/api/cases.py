"""The cases API (docs/contract.md §8): cases, notes, 转办, closing, decisions and the weekly brief.

    GET  /cases                      open cases the caller may see (?leader= &kind= &closed=true)
    GET  /cases/{ref}                one case with its notes, 转办 and closing
    POST /cases/{ref}/notes          {"text": "...", "kind": "measure|progress"}   owner or analyst/admin
    POST /cases/{ref}/reassign       {"to": "L02", "reason": "..."}                analyst/admin
    POST /cases/{ref}/close          {"reason": "..."}   person cases (一人一案) and alert cases
    GET  /decisions                  ?state=open|done|overdue &owner= &case=
    POST /decisions                  {"case", "text", "owner", "due": "YYYY-MM-DD", "week"?}  analyst/admin
    POST /decisions/{id}/done        {"note": "..."}     the decision's owner or analyst/admin
    GET  /meeting/brief?week=YYYY-Www   the §8 JSON object (analyst/admin/viewer)

Leaders see the cases they own; viewers, analysts and admins see every case. `register(app)` adds
the routes to the alert API's app (pipeline/api/app.py), with its bearer tokens and guards.
"""

# No `from __future__ import annotations`: FastAPI resolves the routes' annotations at definition
# time, and `Caller` is local to register().
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from pipeline.alerting.access import Principal
from pipeline.api.schemas import Text
from pipeline.area import Area
from pipeline.errors import Forbidden, RiskwatchError

_bearer = HTTPBearer(auto_error=False, description="A token from `riskwatch tokens create`")
SEE_ALL = frozenset({"viewer", "analyst", "admin"})
BRIEF_ROLES = SEE_ALL


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: Text = Field(..., min_length=1, max_length=2000, description="处置措施 or 进展")
    kind: Literal["measure", "progress"] = "progress"


class ReassignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(..., min_length=1, max_length=32, description="Leader id of assignments.yaml")
    reason: Text = Field(..., min_length=1, max_length=2000)


class CloseCaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text = Field(..., min_length=1, max_length=2000)


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    case: str = Field(..., min_length=3, max_length=200, description="Case ref, e.g. hazard:HZ-2024-0003")
    text: Text = Field(..., min_length=1, max_length=2000, description="研判意见 / 措施")
    owner: str = Field(..., min_length=1, max_length=32, description="Responsible leader id (责任人)")
    due: date = Field(..., description="Due date (时限)")
    week: str | None = Field(None, pattern=r"^[0-9]{4}-W[0-9]{2}$", description="The meeting's ISO week")


class DoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Text = Field(..., min_length=1, max_length=2000, description="落实情况")


@contextmanager
def _as_http() -> Iterator[None]:
    """The error tree's HTTP status for a refusal from the core (one line, no contents)."""
    try:
        yield
    except RiskwatchError as exc:
        raise HTTPException(exc.http_status, str(exc)) from None


def register(app: FastAPI, area: Area | None = None) -> None:
    """Add the cases routes to the alert API app built by pipeline.api.app.create_app."""
    from pipeline.cases import actions, decisions
    from pipeline.cases.brief import meeting_brief
    from pipeline.cases.derive import derive_case, derive_cases

    api = app.state.api
    engine, assignments = api.engine, api.assignments
    if area is None:
        from pipeline.area import load_area
        from pipeline.configset import config_file
        from pipeline.settings import load_settings

        area = load_area(config_file("area.yaml", load_settings().config_dir))
    tz = area.tz
    for prefix in ("/cases/", "/decisions"):
        app.state.guards.require(prefix, ("POST",), api.bearer_ok, "Bearer")

    def principal(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
        return api.principal(creds.credentials if creds else None)

    Caller = Annotated[Principal, Depends(principal)]

    def visible(caller: Principal, owner: str | None) -> bool:
        return caller.role in SEE_ALL or (caller.role == "leader" and caller.leader_id == owner)

    @app.get("/cases", tags=["cases"], summary="Cases the caller may see, overdue first")
    def list_cases(caller: Caller, leader: Annotated[str | None, Query(max_length=32)] = None,
                   kind: Annotated[Literal["hazard", "dispute", "alert", "person"] | None, Query()] = None,
                   closed: bool = False) -> dict[str, Any]:
        now = api.clock()
        with engine.connect() as conn:
            found = derive_cases(conn, assignments)
        chosen = sorted((c for c in found.values() if (closed or c.is_open) and visible(caller, c.owner)
                         and (leader is None or c.owner == leader) and (kind is None or c.kind == kind)),
                        key=lambda c: (-c.days_overdue(now), c.opened_at, c.ref))
        return {"cases": [c.as_dict(now) for c in chosen]}

    @app.get("/cases/{ref}", tags=["cases"], summary="One case with its notes, 转办 and closing")
    def show_case(ref: str, caller: Caller) -> dict[str, Any]:
        with _as_http(), engine.connect() as conn:
            case = derive_case(conn, assignments, ref)
            if case is None or not visible(caller, case.owner):
                raise HTTPException(404, f"没有案件 {ref}")
            kept = actions.case_actions(conn, ref)
        return {**case.as_dict(api.clock()), "actions": [a.as_dict() for a in kept]}

    @app.post("/cases/{ref}/notes", tags=["cases"], status_code=201, summary="Add a note (处置措施 / 进展)")
    def add_note(ref: str, caller: Caller, body: NoteIn) -> dict[str, Any]:
        with _as_http():
            return actions.add_note(engine, assignments, ref, caller, body.text, body.kind, api.clock()).as_dict()

    @app.post("/cases/{ref}/reassign", tags=["cases"], summary="转办: give the case to another leader")
    def reassign(ref: str, caller: Caller, body: ReassignIn) -> dict[str, Any]:
        with _as_http():
            return actions.reassign(engine, assignments, ref, caller, body.to, body.reason, api.clock()).as_dict()

    @app.post("/cases/{ref}/close", tags=["cases"], summary="Close a person or alert case by hand, with a reason")
    def close_case(ref: str, caller: Caller, body: CloseCaseIn) -> dict[str, Any]:
        with _as_http():
            actions.close_case(engine, assignments, ref, caller, body.reason, api.clock())
            with engine.connect() as conn:
                case = derive_case(conn, assignments, ref)
        assert case is not None
        return case.as_dict(api.clock())

    @app.get("/decisions", tags=["decisions"], summary="Decisions of the meeting, by id")
    def list_decisions(caller: Caller,
                       state: Annotated[Literal["open", "done", "overdue"] | None, Query()] = None,
                       owner: Annotated[str | None, Query(max_length=32)] = None,
                       case: Annotated[str | None, Query(max_length=200)] = None) -> dict[str, Any]:
        now = api.clock()
        with _as_http(), engine.connect() as conn:
            found = decisions.list_decisions(conn, tz, state, owner, case, now)
        return {"decisions": [d.as_dict(now, tz) for d in found if visible(caller, d.owner)]}

    @app.post("/decisions", tags=["decisions"], status_code=201, summary="Record a decision of the meeting")
    def add_decision(caller: Caller, body: DecisionIn) -> dict[str, Any]:
        with _as_http():
            d = decisions.add_decision(engine, assignments, tz, body.case, body.text, body.owner, body.due, caller,
                                       body.week, api.clock())
        return d.as_dict(api.clock(), tz)

    @app.post("/decisions/{decision_id}/done", tags=["decisions"], summary="Mark a decision done (落实情况)")
    def done(decision_id: int, caller: Caller, body: DoneIn) -> dict[str, Any]:
        with _as_http():
            d = decisions.mark_done(engine, decision_id, body.note, caller, api.clock())
        return d.as_dict(api.clock(), tz)

    @app.get("/meeting/brief", tags=["meeting"], summary="The weekly brief of the meeting (docs/contract.md §8)")
    def brief(caller: Caller, week: Annotated[str, Query(pattern=r"^[0-9]{4}-W[0-9]{2}$")]) -> dict[str, Any]:
        with _as_http():
            if caller.role not in BRIEF_ROLES:
                raise Forbidden("研判简报仅供研判分析人员、管理员和查看人员使用")
            with engine.connect() as conn:
                return meeting_brief(conn, area, assignments, week)
