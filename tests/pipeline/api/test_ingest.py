"""POST /v1/events and GET /v1/health over the database sink (the one-process deployment)."""

from __future__ import annotations

import threading
import warnings

import orjson
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from pipeline.api.ingest import mount_ingest
from pipeline.errors import StorageUnavailable
from pipeline.ingest import sources
from pipeline.ingest.sink import DatabaseSink
from pipeline.serve.inbox import InboxWriter
from tests.pipeline.api.ingestkit import event

with warnings.catch_warnings():  # starlette announces a future move of its TestClient to another HTTP client
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LIMIT = 64 * 1024


@pytest.fixture
def app_parts(engine, config):
    wake = threading.Event()
    writer = InboxWriter(engine, retry_deadline=0.5)
    app = FastAPI()
    mount_ingest(app, engine, config.vocabulary, DatabaseSink(writer, wake), body_limit=LIMIT, max_skew=300.0)
    token = sources.create(engine, "patrol", "patrol-app", created_by="test")
    return TestClient(app), token, wake, writer


def auth(token: str, content_type: str = "application/x-ndjson") -> dict:
    return {"Authorization": f"Bearer {token}", "Content-Type": content_type}


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()


def test_ndjson_items_get_verdicts_with_the_contract_codes_and_accepted_ones_are_committed(app_parts, engine):
    client, token, wake, _ = app_parts
    lines = [orjson.dumps(event(1)), b"{not json", b"", orjson.dumps(event(2, kind="nope")),
             orjson.dumps(event(3, source="sensor-gw")), orjson.dumps(event(1)), b"[1]",
             b'{"event_id": "e-4", "text": "\xff"}']        # not UTF-8: the validator's fast path must not raise
    response = client.post("/v1/events", content=b"\n".join(lines), headers=auth(token))
    assert response.status_code == 200
    assert response.json() == {
        "accepted": 2, "rejected": 5,
        "results": [
            {"item": 1, "event_id": "e-1", "status": "accepted"},
            {"item": 2, "event_id": None, "status": "rejected", "reason": "invalid_json"},
            {"item": 3, "event_id": "e-2", "status": "rejected", "reason": "unknown_kind"},
            {"item": 4, "event_id": "e-3", "status": "rejected", "reason": "invalid_field:source"},
            {"item": 5, "event_id": "e-1", "status": "accepted"},
            {"item": 6, "event_id": None, "status": "rejected", "reason": "not_an_object"},
            {"item": 7, "event_id": None, "status": "rejected", "reason": "invalid_json"},
        ],
    }
    assert count(engine, "events") == 1           # the repeat is accepted, stored once, counted downstream
    assert count(engine, "serve_inbox") == 2
    assert wake.is_set()


def test_json_body_is_one_object_or_an_array(app_parts, engine):
    client, token, _, _ = app_parts
    one = client.post("/v1/events", content=orjson.dumps(event(1)), headers=auth(token, "application/json"))
    assert one.json()["results"] == [{"item": 1, "event_id": "e-1", "status": "accepted"}]
    many = client.post("/v1/events", content=orjson.dumps([event(2), {"x": 1}, 5]),
                       headers=auth(token, "application/json; charset=utf-8"))
    assert [r["status"] for r in many.json()["results"]] == ["accepted", "rejected", "rejected"]
    assert [r.get("reason") for r in many.json()["results"]] == [None, "unknown_field:x", "not_an_object"]
    broken = client.post("/v1/events", content=b"[{", headers=auth(token, "application/json"))
    assert broken.json() == {"accepted": 0, "rejected": 1, "results": [
        {"item": 1, "event_id": None, "status": "rejected", "reason": "invalid_json"}]}
    assert count(engine, "events") == 2


def test_future_events_are_rejected_against_the_wall_clock(app_parts):
    client, token, _, _ = app_parts
    body = orjson.dumps(event(1, occurred_at="9999-01-01T00:00:00+00:00"))
    answer = client.post("/v1/events", content=body, headers=auth(token)).json()
    assert answer["results"][0]["reason"] in ("future_timestamp", "invalid_field:occurred_at")
    body = orjson.dumps(event(2, occurred_at="2090-01-01T00:00:00+00:00"))
    assert client.post("/v1/events", content=body, headers=auth(token)).json()["results"][0]["reason"] == "future_timestamp"


def test_missing_unknown_and_revoked_tokens_get_401(app_parts, engine):
    client, token, _, _ = app_parts
    body = orjson.dumps(event(1))
    assert client.post("/v1/events", content=body, headers={"Content-Type": "application/x-ndjson"}).status_code == 401
    wrong = client.post("/v1/events", content=body, headers=auth("rws_nope"))
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    sources.revoke(engine, "patrol", revoked_by="test")
    assert client.post("/v1/events", content=body, headers=auth(token)).status_code == 401
    assert count(engine, "events") == 0


def test_other_content_types_get_415(app_parts, engine):
    client, token, _, _ = app_parts
    response = client.post("/v1/events", content=orjson.dumps(event(1)), headers=auth(token, "text/plain"))
    assert response.status_code == 415
    assert count(engine, "events") == 0


def test_a_body_over_the_limit_gets_413_before_authentication(app_parts, engine):
    client, _, _, _ = app_parts
    body = b"\n".join(orjson.dumps(event(i)) for i in range(LIMIT // 100))
    assert len(body) > LIMIT
    response = client.post("/v1/events", content=body, headers=auth("rws_unknown"))
    assert response.status_code == 413


def test_a_streamed_body_over_the_limit_gets_413_without_content_length(app_parts, engine):
    client, token, _, _ = app_parts
    chunk = orjson.dumps(event(1)) + b"\n"

    def chunks():
        for _ in range(LIMIT // len(chunk) + 10):
            yield chunk

    response = client.post("/v1/events", content=chunks(), headers=auth(token))
    assert response.status_code == 413
    assert count(engine, "events") == 0


def test_a_database_that_cannot_take_the_events_gives_503_and_nothing_is_accepted(app_parts, engine, monkeypatch):
    client, token, _, writer = app_parts

    def refuse(events, rejections=()):
        raise StorageUnavailable("database not reachable")

    monkeypatch.setattr(writer, "accept", refuse)
    response = client.post("/v1/events", content=orjson.dumps(event(1)), headers=auth(token))
    assert response.status_code == 503
    assert int(response.headers["retry-after"]) > 0
    assert count(engine, "events") == 0


def test_health(app_parts, engine):
    client, _, _, _ = app_parts
    assert client.get("/v1/health").status_code == 200
    engine.dispose()
    broken = FastAPI()
    gone = sa.create_engine("sqlite:////nonexistent-dir/x.db")
    mount_ingest(broken, gone, None, DatabaseSink(InboxWriter(gone)), body_limit=LIMIT, max_skew=1.0)  # type: ignore[arg-type]
    response = TestClient(broken).get("/v1/health")
    assert response.status_code == 503
