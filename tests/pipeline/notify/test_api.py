"""The alert API: tokens and roles (401/403), bodies (422), states (404/409), nothing changed in
the database on any refusal, every action in the history and audit log, OpenAPI document."""

from __future__ import annotations

import warnings

import pytest

with warnings.catch_warnings():  # starlette announces a future move of its TestClient to another HTTP client
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from pipeline.alerting.records import get_alert, history_of
from pipeline.api.app import create_app
from pipeline.auth import create_token, revoke
from tests.pipeline.notify.alertkit import T0, FakeClock, raise_alert, snapshot


@pytest.fixture
def world(engine, config):
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)             # building 1: L01, chain L05, L10
    raise_alert(engine, "a2", "location:HD-2-0301", "L02", T0, building="2")
    tokens = {
        "viewer": create_token(engine, "viewer-1", "viewer"),
        "analyst": create_token(engine, "analyst-1", "analyst"),
        "admin": create_token(engine, "admin-1", "admin"),
        "L01": create_token(engine, "leader-L01", "leader", leader_id="L01"),
        "L02": create_token(engine, "leader-L02", "leader", leader_id="L02"),
        "L05": create_token(engine, "leader-L05", "leader", leader_id="L05"),
        "L03": create_token(engine, "leader-L03", "leader", leader_id="L03"),
        "revoked": create_token(engine, "leader-old", "leader", leader_id="L01"),
    }
    revoke(engine, tokens["revoked"])
    client = TestClient(create_app(engine, config.assignments, FakeClock(T0)))
    return client, tokens


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


REFUSALS = [
    ("no token", None, "post", "/alerts/a1/ack", None, 401),
    ("unknown token", "rw_not-a-real-token", "post", "/alerts/a1/ack", None, 401),
    ("revoked token", "revoked", "post", "/alerts/a1/ack", None, 401),
    ("not bearer", "basic", "post", "/alerts/a1/ack", None, 401),
    ("viewer acks", "viewer", "post", "/alerts/a1/ack", None, 403),
    ("analyst closes", "analyst", "post", "/alerts/a1/close", {"reason": "x"}, 403),
    ("other leader acks", "L02", "post", "/alerts/a1/ack", None, 403),
    ("other leader closes", "L02", "post", "/alerts/a1/close", {"reason": "不是我的"}, 403),
    ("leader cannot see another's alert", "L01", "get", "/alerts/a2", None, 403),
    ("close without reason", "admin", "post", "/alerts/a1/close", {}, 422),
    ("close with blank reason", "admin", "post", "/alerts/a1/close", {"reason": "   "}, 422),
    ("close with wrong type", "L01", "post", "/alerts/a1/close", {"reason": 5}, 422),
    ("ack with unknown field", "L01", "post", "/alerts/a1/ack", {"note": "ok", "status": "closed"}, 422),
    ("ack with too long note", "L01", "post", "/alerts/a1/ack", {"note": "长" * 501}, 422),
    ("ack body not json", "L01", "post", "/alerts/a1/ack", "not json", 422),
    ("unknown alert", "admin", "post", "/alerts/nope/ack", None, 404),
]


@pytest.mark.parametrize("name,who,method,path,body,status", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_change_nothing(world, engine, name, who, method, path, body, status):
    client, tokens = world
    headers = {}
    if who == "basic":
        headers = {"Authorization": "Basic dXNlcjpwdw=="}
    elif who is not None:
        headers = auth(tokens.get(who, who))
    before = snapshot(engine)
    kwargs = {"headers": headers}
    if isinstance(body, str):
        kwargs["content"] = body
        headers["Content-Type"] = "application/json"
    elif body is not None:
        kwargs["json"] = body
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"
    assert snapshot(engine) == before


def test_leader_acknowledges_own_alert_recorded_in_history_and_audit(world, engine):
    client, tokens = world
    response = client.post("/alerts/a1/ack", headers=auth(tokens["L01"]), json={"note": "收到，马上处理"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"
    with engine.connect() as conn:
        [ack] = [h for h in history_of(conn, "a1") if h.action == "acknowledged"]
        audit = conn.exec_driver_sql("SELECT actor, action, detail FROM audit_log WHERE action = 'acknowledge'").all()
    assert (ack.actor, ack.at, ack.detail) == ("leader-L01", T0, {"note": "收到，马上处理"})
    assert [(a.actor, a.action) for a in audit] == [("leader-L01", "acknowledge")]
    # acknowledging again is a conflict, and changes nothing
    before = snapshot(engine)
    assert client.post("/alerts/a1/ack", headers=auth(tokens["L01"])).status_code == 409
    assert snapshot(engine) == before


def test_a_leader_in_the_assignees_chain_may_act(world, engine):
    client, tokens = world
    response = client.post("/alerts/a1/close", headers=auth(tokens["L05"]), json={"reason": "已现场核实，隐患排除"})
    assert response.status_code == 200 and response.json()["status"] == "closed"
    with engine.connect() as conn:
        [closed] = [h for h in history_of(conn, "a1") if h.action == "closed"]
    assert closed.actor == "leader-L05" and closed.detail["reason"] == "已现场核实，隐患排除"
    assert client.post("/alerts/a1/close", headers=auth(tokens["admin"]), json={"reason": "again"}).status_code == 409


def test_lists_are_scoped_by_role(world):
    client, tokens = world
    ids = lambda who, q="": sorted(a["alert_id"] for a in client.get(f"/alerts{q}", headers=auth(tokens[who])).json()["alerts"])  # noqa: E731
    assert ids("viewer") == ids("analyst") == ids("admin") == ["a1", "a2"]
    # L05 is in the chains of L01 and L02; L03's chain is [L10] only
    assert ids("L01") == ["a1"] and ids("L02") == ["a2"] and ids("L05") == ["a1", "a2"] and ids("L03") == []
    assert ids("admin", "?building=2") == ["a2"]
    assert ids("admin", "?status=closed") == []
    assert client.get("/alerts?status=bogus", headers=auth(tokens["admin"])).status_code == 422
    detail = client.get("/alerts/a1", headers=auth(tokens["L01"])).json()
    assert [h["action"] for h in detail["history"]] == ["raised"] and detail["building"] == "1"


def test_openapi_document_describes_the_endpoints_and_bearer_auth(world):
    client, _ = world
    doc = client.get("/openapi.json").json()
    assert {"/alerts", "/alerts/{alert_id}", "/alerts/{alert_id}/ack", "/alerts/{alert_id}/close"} <= set(doc["paths"])
    assert doc["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    close = doc["paths"]["/alerts/{alert_id}/close"]["post"]
    assert close["requestBody"]["required"] is True
    assert "reason" in doc["components"]["schemas"]["CloseIn"]["required"]


def test_served_by_uvicorn_on_loopback(engine, config):
    """The real server on 127.0.0.1: one GET with a token, one without."""
    import threading
    import time

    import httpx
    import uvicorn

    from tests.pipeline.notify.notify_peers import free_port

    raise_alert(engine, "a1", "location:HD-1-1203", "L01", T0)
    token = create_token(engine, "viewer-1", "viewer")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(engine, config.assignments), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/alerts").status_code == 401
        listed = httpx.get(f"{base}/alerts", headers=auth(token)).json()["alerts"]
        assert [a["alert_id"] for a in listed] == ["a1"]
        assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "riskwatch alerts"
    finally:
        server.should_exit = True
        thread.join(10)
    with engine.connect() as conn:
        assert get_alert(conn, "a1").status == "open"
