"""HTTP ingest keeps its rejected items on the real services (docs/ingest.md, "Rejected items"): on
PostgreSQL in the transaction of the request's events (a 503 keeps nothing), and with Kafka as
dead letters on the deployment's events.dlq, acknowledged before the 200."""

from __future__ import annotations

import hashlib
import uuid
import warnings

import orjson
import sqlalchemy as sa
from fastapi import FastAPI

from pipeline.api.ingest import mount_ingest
from pipeline.configset import load_config
from pipeline.ingest import sources
from pipeline.ingest.sink import DatabaseSink
from pipeline.serve.inbox import InboxWriter
from pipeline.storage.db import open_database
from tests.integration import pgkit

with warnings.catch_warnings():  # starlette announces a future move of its TestClient to another HTTP client
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

GOOD = orjson.dumps({"event_id": "e-1", "kind": "hazard", "type": "found", "source": "patrol-app",
                     "occurred_at": "2024-11-05T09:00:00+08:00", "location": {"id": "HD-1-0101"}})
BODY = b"\n".join([GOOD, b"{not json", orjson.dumps({"event_id": "e-2", "kind": "nope"})])
HEADERS = {"Content-Type": "application/x-ndjson"}


def request_source(name: str, body: bytes) -> str:
    return f"http:{name}/{hashlib.sha256(body).hexdigest()[:16]}"


def test_postgresql_keeps_rejections_with_the_events_and_nothing_on_503(pg_url):
    config = load_config()
    with pgkit.scratch_database(pg_url, "ingest_rej") as url:
        engine = open_database(url)
        try:
            app = FastAPI()
            mount_ingest(app, engine, config.vocabulary, DatabaseSink(InboxWriter(engine, retry_deadline=0.5)),
                         body_limit=1 << 20, max_skew=300.0)
            token = sources.create(engine, "patrol-prod", "patrol-app", created_by="test")
            client = TestClient(app)
            answer = client.post("/v1/events", content=BODY, headers={**HEADERS, "Authorization": f"Bearer {token}"})
            assert answer.status_code == 200 and answer.json()["rejected"] == 2
            with engine.connect() as conn:
                stored = conn.execute(sa.text("SELECT source, partition, position, reason, event_id, raw "
                                              "FROM rejections ORDER BY position")).all()
            assert [tuple(r) for r in stored] == [
                (request_source("patrol-prod", BODY), 0, 2, "invalid_json", None, "{not json"),
                (request_source("patrol-prod", BODY), 0, 3, "missing_field:type", "e-2", '{"event_id":"e-2","kind":"nope"}')]
            other = BODY.replace(b"e-1", b"e-3")
            with engine.begin() as conn:   # the request's last statement, the inbox insert, fails
                conn.execute(sa.text("ALTER TABLE serve_inbox RENAME TO serve_inbox_away"))
            refused = client.post("/v1/events", content=other, headers={**HEADERS, "Authorization": f"Bearer {token}"})
            assert refused.status_code == 503
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM rejections")).scalar_one() == 2
                assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() == 1
        finally:
            engine.dispose()


def test_kafka_sends_rejections_to_the_deployments_events_dlq(kafka_bootstrap, tmp_path):
    from streams import codec
    from streams.ingest_producer import KafkaSink
    from streams.kafka_io import iter_messages
    from streams.topics import TopicNames, delete_topics, ensure_topics

    config = load_config()
    names = TopicNames.make(f"test.ingestrej.{uuid.uuid4().hex[:8]}.", "ingestrej")
    ensure_topics(kafka_bootstrap, names, 2, 1)
    engine = open_database(f"sqlite:///{tmp_path / 'tokens.db'}")
    try:
        sink = KafkaSink(kafka_bootstrap, names.raw)
        app = FastAPI()
        mount_ingest(app, engine, config.vocabulary, sink, body_limit=1 << 20, max_skew=300.0)
        app.router.on_shutdown.append(sink.close)
        token = sources.create(engine, "patrol-prod", "patrol-app", created_by="test")
        with TestClient(app) as client:
            answer = client.post("/v1/events", content=BODY, headers={**HEADERS, "Authorization": f"Bearer {token}"})
        assert answer.status_code == 200 and (answer.json()["accepted"], answer.json()["rejected"]) == (1, 2)
        raw = [m.value for m in iter_messages(kafka_bootstrap, names.raw)]
        letters = sorted((codec.rejection_of(m.value) for m in iter_messages(kafka_bootstrap, names.dlq)),
                         key=lambda r: r.position)
        assert raw == [GOOD]
        assert [(r.source, r.partition, r.position, r.reason, r.event_id, r.raw) for r in letters] == [
            (request_source("patrol-prod", BODY), 0, 2, "invalid_json", None, "{not json"),
            (request_source("patrol-prod", BODY), 0, 3, "missing_field:type", "e-2", '{"event_id":"e-2","kind":"nope"}')]
        assert [r.raw_length for r in letters] == [9, len('{"event_id":"e-2","kind":"nope"}')]
    finally:
        engine.dispose()
        delete_topics(kafka_bootstrap, names)
