"""Every path that writes through the storage writer keeps the cases table current: serve's inbox
(events accepted over HTTP) and the stream's sink (a Kafka batch), like replay (test_derive.py)."""

from __future__ import annotations

import json

import sqlalchemy as sa

from pipeline.cases.store import CASES
from pipeline.contract import parse_event
from tests.pipeline.cases.casekit import at, event


def _events(config, docs):
    return [parse_event(json.dumps(d).encode(), config.vocabulary, now=at(30).timestamp()) for d in docs]


def _cases(engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        return {r.ref: (r.state, r.owner) for r in conn.execute(sa.select(CASES))}


def test_serve_inbox_accepts_keep_the_cases(engine, config):
    from pipeline.serve.inbox import InboxWriter

    writer = InboxWriter(engine, assignments=config.assignments)
    writer.accept(_events(config, [event("h1", at(4), "hazard", "found", hazard_id="HZ-9", location="HD-2-1203",
                                         building="2")]))
    assert _cases(engine) == {"hazard:HZ-9": ("open", "L02")}
    writer.accept(_events(config, [event("h2", at(5), "hazard", "verified", hazard_id="HZ-9", location="HD-2-1203",
                                         building="2")]))
    assert _cases(engine) == {"hazard:HZ-9": ("closed", "L02")}


def test_stream_sink_batches_keep_the_cases(engine, config):
    from streams.sink import SinkBatch, StreamWriter

    writer = StreamWriter(engine, assignments=config.assignments)
    batch = SinkBatch()
    batch.events.extend(_events(config, [event("d1", at(4), "dispute", "reported", case_id="MD-9"),
                                         event("d2", at(5), "dispute", "escalated", case_id="MD-9")]))
    writer.write_stream(batch)
    assert _cases(engine) == {"dispute:MD-9": ("referred", "L04")}
