"""The cases API: cases by role, notes, 转办, closing, decisions and the weekly brief over HTTP."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from pipeline.api.app import create_app
from pipeline.auth import create_token
from tests.pipeline.cases.casekit import at, event, store


@pytest.fixture
def world(engine, config):
    url = str(engine.url)
    store(url, config, [
        event("h1", at(4), "hazard", "found", hazard_id="HZ-1", location="HD-1-1203", building="1", due_at=at(6)),
        event("h2", at(4), "hazard", "found", hazard_id="HZ-2", location="HD-2-1203", building="2"),
    ])
    tokens = {
        "viewer": create_token(engine, "viewer-1", "viewer"),
        "analyst": create_token(engine, "analyst-1", "analyst"),
        "L01": create_token(engine, "leader-L01", "leader", leader_id="L01"),
        "L02": create_token(engine, "leader-L02", "leader", leader_id="L02"),
    }
    return TestClient(create_app(engine, config.assignments, lambda: at(20))), tokens


def call(client, tokens, who, method, path, body=None):
    headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
    return getattr(client, method)(path, headers=headers, **({"json": body} if body is not None else {}))


def test_leaders_see_their_own_cases_analysts_all(world):
    client, tokens = world
    mine = call(client, tokens, "L01", "get", "/cases").json()["cases"]
    assert [(c["ref"], c["leader"], c["days_overdue"]) for c in mine] == [("hazard:HZ-1", "L01", 14)]
    assert {c["ref"] for c in call(client, tokens, "analyst", "get", "/cases").json()["cases"]} == {
        "hazard:HZ-1", "hazard:HZ-2"}
    assert call(client, tokens, "L01", "get", "/cases/hazard:HZ-2").status_code == 404
    assert call(client, tokens, None, "get", "/cases").status_code == 401


def test_note_reassign_and_their_refusals(world):
    client, tokens = world
    note = call(client, tokens, "L01", "post", "/cases/hazard:HZ-1/notes", {"text": "已清理", "kind": "measure"})
    assert note.status_code == 201 and note.json()["actor"] == "leader-L01"
    assert call(client, tokens, "L02", "post", "/cases/hazard:HZ-1/notes", {"text": "x"}).status_code == 403
    assert call(client, tokens, "L01", "post", "/cases/hazard:HZ-1/reassign",
                {"to": "L02", "reason": "x"}).status_code == 403
    assert call(client, tokens, "analyst", "post", "/cases/hazard:HZ-1/reassign",
                {"to": "L99", "reason": "x"}).status_code == 422
    assert call(client, tokens, "analyst", "post", "/cases/hazard:HZ-1/notes", {"text": ""}).status_code == 422
    moved = call(client, tokens, "analyst", "post", "/cases/hazard:HZ-1/reassign", {"to": "L02", "reason": "转办"})
    assert moved.status_code == 200
    shown = call(client, tokens, "L02", "get", "/cases/hazard:HZ-1").json()
    assert shown["leader"] == "L02" and [a["action"] for a in shown["actions"]] == ["note", "reassign"]
    assert call(client, tokens, "analyst", "post", "/cases/hazard:HZ-1/close",
                {"reason": "x"}).status_code == 409           # hazards close by their events
    assert call(client, tokens, "analyst", "post", "/cases/hazard:NOPE/notes", {"text": "x"}).status_code == 404


def test_decisions_and_brief(world):
    client, tokens = world
    made = call(client, tokens, "analyst", "post", "/decisions",
                {"case": "hazard:HZ-1", "text": "限期整改", "owner": "L01", "due": "2024-11-08", "week": "2024-W45"})
    assert made.status_code == 201 and made.json()["state"] == "overdue"
    assert call(client, tokens, "L01", "post", "/decisions",
                {"case": "hazard:HZ-1", "text": "x", "owner": "L01", "due": "2024-11-08"}).status_code == 403
    done = call(client, tokens, "L01", "post", f"/decisions/{made.json()['id']}/done", {"note": "已整改"})
    assert done.status_code == 200 and done.json()["state"] == "done"
    assert [d["state"] for d in call(client, tokens, "viewer", "get", "/decisions").json()["decisions"]] == ["done"]
    brief = call(client, tokens, "analyst", "get", "/meeting/brief?week=2024-W45")
    assert brief.status_code == 200
    assert [c["ref"] for c in brief.json()["open_cases"]] == ["hazard:HZ-1", "hazard:HZ-2"]
    assert call(client, tokens, "L01", "get", "/meeting/brief?week=2024-W45").status_code == 403
    assert call(client, tokens, "analyst", "get", "/meeting/brief?week=2024-45").status_code == 422
