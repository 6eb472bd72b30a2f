"""POST /v1/events keeps its rejected items (docs/ingest.md, "Rejected items"): in `rejections`, in
the transaction of the request's events, with the bounded raw copy; a 503 keeps nothing."""

from __future__ import annotations

import hashlib
import warnings

import orjson
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from pipeline.api.ingest import mount_ingest
from pipeline.ingest import sources
from pipeline.ingest.sink import DatabaseSink
from pipeline.rawcopy import KEEP_BYTES
from pipeline.serve.inbox import InboxWriter
from pipeline.storage.ingest_tables import INBOX
from tests.pipeline.api.ingestkit import event

with warnings.catch_warnings():  # starlette announces a future move of its TestClient to another HTTP client
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

LIMIT = 1024 * 1024
COLUMNS = "source, partition, position, reason, event_id, raw, raw_bytes, raw_length, raw_sha256, detail"


@pytest.fixture
def client_token(engine, config):
    app = FastAPI()
    mount_ingest(app, engine, config.vocabulary, DatabaseSink(InboxWriter(engine, retry_deadline=0.3)),
                 body_limit=LIMIT, max_skew=300.0)
    return TestClient(app), sources.create(engine, "patrol-prod", "patrol-app", created_by="test")


def post(client: TestClient, token: str, body: bytes):
    return client.post("/v1/events", content=body,
                       headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})


def rows(engine, sql: str) -> list:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(sql)).mappings())


def test_rejected_items_are_stored_with_reason_event_id_raw_and_their_request_and_item(client_token, engine):
    client, token = client_token
    huge = b'{"event_id": "big", "text": "' + b"x" * (KEEP_BYTES + 5000) + b'"}'
    items = [orjson.dumps(event(1)), b"{not json", orjson.dumps(event(2, kind="nope")),
             orjson.dumps(event(3, source="sensor-gw")), huge, b"\xff\xfe"]
    body = b"\n".join(items)
    response = post(client, token, body)
    assert response.status_code == 200 and response.json()["rejected"] == 5
    stored = rows(engine, f"SELECT {COLUMNS} FROM rejections ORDER BY position")
    assert [(r["reason"], r["event_id"]) for r in stored] == [
        ("invalid_json", None), ("unknown_kind", "e-2"), ("invalid_field:source", "e-3"), ("too_large", None),
        ("invalid_json", None)]
    assert {r["source"] for r in stored} == {f"http:patrol-prod/{hashlib.sha256(body).hexdigest()[:16]}"}
    assert {r["partition"] for r in stored} == {0}
    assert [r["position"] for r in stored] == [2, 3, 4, 5, 6]       # the item numbers
    assert stored[0]["raw"] == "{not json" and stored[0]["raw_length"] == 9
    assert stored[3]["raw_length"] == len(huge) and len(stored[3]["raw"]) == KEEP_BYTES     # a bounded copy
    assert stored[3]["raw_sha256"] == hashlib.sha256(huge).hexdigest()
    assert stored[4]["raw"] is None and bytes(stored[4]["raw_bytes"]) == b"\xff\xfe"         # not UTF-8
    assert "patrol-app" in stored[2]["detail"]
    assert len(rows(engine, "SELECT event_id FROM events")) == 1


def test_a_resent_body_keeps_its_rejections_once_and_another_body_keeps_its_own(client_token, engine):
    client, token = client_token
    for body in (b"1\n2", b"1\n2", b"1\n2\n"):      # a resend; then another body with the same items
        assert post(client, token, body).json() == {
            "accepted": 0, "rejected": 2, "results": [
                {"item": 1, "event_id": None, "status": "rejected", "reason": "not_an_object"},
                {"item": 2, "event_id": None, "status": "rejected", "reason": "not_an_object"}]}
    stored = rows(engine, "SELECT source, position, raw FROM rejections ORDER BY id")
    assert [(r["position"], r["raw"]) for r in stored] == [(1, "1"), (2, "2"), (1, "1"), (2, "2")]
    assert len({r["source"] for r in stored}) == 2
    assert rows(engine, "SELECT count(*) AS n FROM serve_inbox")[0]["n"] == 0


def test_a_request_refused_with_503_keeps_neither_its_events_nor_its_rejections(client_token, engine):
    client, token = client_token
    with engine.begin() as conn:   # the inbox insert, the last statement of the transaction, fails
        conn.execute(sa.text(f"ALTER TABLE {INBOX.name} RENAME TO inbox_away"))
    response = post(client, token, orjson.dumps(event(1)) + b"\n{not json")
    assert response.status_code == 503
    assert rows(engine, "SELECT count(*) AS n FROM rejections")[0]["n"] == 0
    assert rows(engine, "SELECT count(*) AS n FROM events")[0]["n"] == 0
