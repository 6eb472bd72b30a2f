"""Unit tests of the stream's parts (no Kafka): watermark, ordered acks, ingest, scoring, sink,
partitioning, codec and the JSON log format."""

from __future__ import annotations

import base64
import json
import logging

import orjson
import pytest

from streams import codec
from streams.acks import AckQueue
from streams.ingest import Ingest
from streams.jsonlog import JsonFormatter
from streams.partitioning import EntityPartitioner, OccurredAtPartitioner, key_partition, occurred_at
from streams.scoring import PartitionScorer
from streams.watermark import INF, NEG_INF, Watermark
from tests.pipeline import enginekit as ek

INF_T = float("inf")


def line(eid, kind="monitoring", type_="smoke_alarm", at=0, **kw) -> bytes:
    kw.setdefault("loc", "HD-1-1203")
    kw.setdefault("building", "1")
    return orjson.dumps(ek.event(eid, kind, type_, at, **kw))


# -- watermark ------------------------------------------------------------------------------------


def test_watermark_is_the_least_progress_of_sources_not_caught_up():
    w = Watermark()
    assert w.low() == NEG_INF                       # nothing known yet
    w.update(3, [[0, 100.0, 0, 100.0], [1, 50.0, 0, 60.0]])
    assert w.low() == NEG_INF                       # partition 2 has not spoken
    w.update(None, [[2, None, 1, None]])            # empty and caught up: ignored
    assert w.low() == 50.0
    w.update(None, [[1, None, 0, 60.0]])            # a new owner that has sent nothing yet
    assert w.low() == NEG_INF
    w.update(None, [[1, 70.0, 1, 70.0]])
    assert w.low() == 100.0
    w.update(None, [[0, 120.0, 1, 120.0]])
    assert w.low() == INF and w.caught_up() and w.end() == 120.0


# -- acks -----------------------------------------------------------------------------------------


def test_acks_go_out_in_offset_order_per_partition():
    q = AckQueue()
    a = q.add("tp0", 0, pending=1)
    q.add("tp0", 1)
    q.add("tp1", 10)
    assert q.ready() == [10]                        # tp0 offset 1 is done but waits behind offset 0
    a.pending -= 1
    assert q.ready() == [0, 1]
    q.add("tp0", 2, pending=1)
    q.drop(lambda tp: tp != "tp0")
    assert q.held() == 0


# -- ingest ---------------------------------------------------------------------------------------


def make_ingest(clock="event", partitions=4, window=30 * 86400.0):
    return Ingest(ek.project_config(), "events.raw", partitions, clock=clock, dedupe_window=window)


def test_ingest_rejects_to_the_dlq_with_the_original_bytes():
    ing = make_ingest()
    bad = b'{"event_id": "x", \xff'
    out = ing.process([(2, 7, bad), (2, 8, b"[1]")])
    assert out.rejected == 2 and out.accepted == 0
    first = orjson.loads(out.dlq[0][1])
    assert out.dlq[0][0] == 2
    assert first["reason"] == "invalid_json" and first["partition"] == 2 and first["offset"] == 7
    assert base64.b64decode(first["raw_base64"]) == bad and "raw" not in first
    second = codec.rejection_of(out.dlq[1][1])
    assert (second.reason, second.raw, second.partition, second.position) == ("not_an_object", "[1]", 2, 8)


def test_a_repeat_at_another_position_is_a_duplicate_the_same_message_again_is_not():
    ing = make_ingest()
    out = ing.process([(0, 0, line("e1")), (0, 1, line("e1"))])
    assert (out.accepted, out.duplicates) == (1, 1)
    assert out.ingested[0]["d"] == [["e1", 1, 0, 0]]
    again = ing.process([(0, 0, line("e1"))])      # delivered again after a crash: processed again
    assert (again.accepted, again.duplicates) == (1, 0)
    assert sum(len(r) for r in again.by_entity.values()) == sum(len(r) for r in out.by_entity.values())


def test_ingest_state_survives_a_restart_through_its_table_values():
    ing = make_ingest()
    out = ing.process([(1, 0, line("e1", at=10)), (1, 1, line("e2", at=20))])
    table = {key: value for _, key, value in out.state}
    fresh = make_ingest()
    fresh.restore(1, table.items())
    assert fresh.max_t[1] == ek.epoch(20)
    dup = fresh.process([(1, 5, line("e2", at=20))])
    assert dup.duplicates == 1
    assert fresh.tick(1, caught_up=False) == [1, None, 0, ek.epoch(20)]   # nothing sent yet this session


def test_fan_out_goes_to_each_target_entitys_partition():
    ing = make_ingest(partitions=8)
    doc = line("d1", "dispute", "reported", subjects=[{"type": "person", "id": "P-1", "role": "party"},
                                                      {"type": "person", "id": "P-2", "role": "party"}])
    out = ing.process([(0, 3, doc)])
    part = EntityPartitioner(8)
    sent = {(P, r[0]) for P, records in out.by_entity.items() for r in records}
    assert {"person:P-1", "person:P-2"} <= {ref for _, ref in sent}
    assert all(part(ref) == P for P, ref in sent)
    assert all(r[2:4] == [0, 3] for records in out.by_entity.values() for r in records)


def test_remembered_ids_are_dropped_after_the_dedupe_window():
    ing = make_ingest(window=86400.0)
    ing.process([(0, 0, line("old", at=0))])
    out = ing.process([(0, 1, line("new", at=3 * 86400))])
    assert any(value is None for _, _, value in out.state)      # the old batch's tombstone
    assert "old" not in ing.seen and "new" in ing.seen


@pytest.mark.parametrize("clock", ["wall", "event"])
def test_every_clock_rejects_events_from_the_future(clock):
    ing = make_ingest(clock=clock)
    out = ing.process([(0, 0, line("f1", at=0))], now=ek.epoch(0) - 3600)
    assert out.rejected == 1 and orjson.loads(out.dlq[0][1])["reason"] == "future_timestamp"
    # without a clock given, the wall clock when read: 9999 is refused and moves no watermark
    out = ing.process([(0, 1, line("f2", occurred_at="9999-12-31T23:59:59Z")), (0, 2, line("f3", at=0))])
    assert out.rejected == 1 and out.accepted == 1
    assert ing.max_t[0] == ek.epoch(0)


# -- scoring --------------------------------------------------------------------------------------


class Tok:
    pending = 0


def by_entity_message(ing_out, P, ticks, sources=1):
    return {"r": ing_out.by_entity.get(P, []), "n": sources, "k": ticks}


def test_records_wait_for_the_watermark_and_apply_in_time_order():
    ing = make_ingest(partitions=1)
    a = ing.process([(0, 0, line("v1", "patrol", "checkpoint_visit", 0, checkpoint="CP-1-LOBBY"))])
    b = ing.process([(1, 0, line("c1", at=60))])
    scorer = PartitionScorer(0, ek.project_config())
    scorer.receive(by_entity_message(b, 0, [[1, ek.epoch(60), 0, ek.epoch(60)]], 2), Tok())
    assert not scorer.flush(0).applied                  # source 0 has not reported yet: W = -inf
    scorer.receive(by_entity_message(a, 0, [[0, ek.epoch(0), 0, ek.epoch(0)]], 2), Tok())
    assert not scorer.flush(0).applied                  # W = t(0): an equal time may still come from 0
    scorer.receive({"r": [], "n": 2, "k": [[0, ek.epoch(30), 0, ek.epoch(30)]]}, Tok())
    assert scorer.flush(0).applied == 1 and scorer.waiting == 1 and scorer.engine.clock == ek.epoch(0)
    scorer.receive({"r": [], "n": 2, "k": [[0, ek.epoch(30), 1, ek.epoch(30)], [1, ek.epoch(60), 1, ek.epoch(60)]]},
                   Tok())
    assert scorer.flush(0).applied == 1 and scorer.waiting == 0
    assert scorer.engine.clock == ek.epoch(60)         # every source caught up: the clock is the last time


def test_a_record_applied_before_is_not_applied_again():
    ing = make_ingest(partitions=1)
    out = ing.process([(0, 0, line("s1")), (0, 1, line("s2", at=60))])
    ticks = [[0, ek.epoch(60), 1, ek.epoch(60)]]
    scorer = PartitionScorer(0, ek.project_config())
    scorer.receive(by_entity_message(out, 0, ticks), Tok())
    first = scorer.flush(0)
    assert first.applied == 2 and first.contributions
    table = dict(scorer.state_writes())
    restored = PartitionScorer(0, ek.project_config())
    restored.restore(table.items())
    token = Tok()
    restored.receive(by_entity_message(out, 0, ticks), token)   # the same message again
    assert token.pending == 0 and not restored.flush(0).contributions


def test_wall_clock_applies_on_arrival_and_fires_deadlines_due_before_now():
    ing = make_ingest(clock="wall", partitions=1)
    out = ing.process([(0, 0, line("v1", "patrol", "checkpoint_visit", 0, checkpoint="CP-1-LOBBY"))], now=ek.epoch(0))
    scorer = PartitionScorer(0, ek.project_config(), clock="wall")
    token = Tok()
    scorer.receive(by_entity_message(out, 0, []), token)
    assert scorer.flush(ek.epoch(60)).applied == 1 and token.pending == 0
    later = scorer.flush(ek.epoch(5 * 3600))            # the 4h patrol gap is due before now
    assert [c.rule for c in later.contributions] == ["checkpoint-patrol-gap"]
    assert scorer.engine.clock == ek.epoch(5 * 3600)


# -- sink -------------------------------------------------------------------------------------------


def test_sink_writes_a_batch_once_however_often_it_comes(tmp_path):
    from pipeline.storage.db import open_database
    from pipeline.storage.views import entity_scores_at
    from streams.sink import StreamWriter, decode
    from streams.topics import TopicNames

    names = TopicNames.make("x.")
    ing = Ingest(ek.project_config(), names.raw, 1)
    out = ing.process([(0, 0, line("s1")), (0, 1, line("s1")), (0, 2, b"nope")])
    scorer = PartitionScorer(0, ek.project_config())
    scorer.receive(by_entity_message(out, 0, [[0, ek.epoch(0), 1, ek.epoch(0)]]), Tok())
    flushed = scorer.flush(0)
    messages = [(names.ingested, 0, 5, codec.dumps(out.ingested[0]))]
    messages += [(names.dlq, 0, 9, v) for _, v in out.dlq]
    messages += [(names.updates, 1, i, codec.contribution_value(c)) for i, c in enumerate(flushed.contributions)]
    messages += [(names.updates, 1, 50, codec.entity_value(e)) for e in flushed.entities]
    engine = open_database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    writer = StreamWriter(engine)
    for _ in range(2):
        writer.write_stream(decode(messages, names))
    with engine.connect() as conn:
        count = lambda t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()  # noqa: E731
        assert (count("events"), count("rejections"), count("duplicates")) == (1, 1, 1)
        assert count("contributions") == len(flushed.contributions) > 0
        positions = dict(((t, p), o) for t, p, o in conn.exec_driver_sql(
            "SELECT topic, partition, next_offset FROM processed_positions"))
    assert positions[("x.events.raw", 0)] == 3 and positions[(names.ingested, 0)] == 6
    writer.write_stream(decode([(names.ingested, 0, 1, codec.dumps({"p": 0, "e": [], "d": []}))], names))
    with engine.connect() as conn:
        assert conn.exec_driver_sql(
            "SELECT next_offset FROM processed_positions WHERE topic = 'x.events.ingested'").scalar_one() == 6
    assert set(entity_scores_at(engine, ek.epoch(0))) == {c.entity for c in flushed.contributions}
    engine.dispose()


# -- partitioning, codec, logs ------------------------------------------------------------------------


def test_occurred_at_partitioning_keeps_equal_times_together_and_each_partition_in_order():
    lines = [line(f"e{i}", at=(i // 3) * 60) for i in range(60)]
    lines.insert(10, b"garbage")
    same_instant = orjson.dumps({**orjson.loads(lines[0]), "occurred_at": "2024-11-05T01:00:00Z"})
    part = OccurredAtPartitioner(4)
    assigned = [part(x) for x in lines]
    assert part(same_instant) == assigned[0]
    assert assigned[10] == assigned[9]                  # unreadable: with the previous line
    by_time: dict[float, set] = {}
    for x, p in zip(lines, assigned, strict=False):
        if occurred_at(x) is not None:
            by_time.setdefault(occurred_at(x), set()).add(p)
    assert all(len(ps) == 1 for ps in by_time.values())
    assert len(set(assigned)) > 1


def test_entity_partition_is_kafkas_default_for_the_key():
    from aiokafka.partitioner import DefaultPartitioner  # what Faust's producer uses for keyed messages

    for ref in ("location:HD-1-1203", "person:P-0007", "checkpoint:CP-1-LOBBY"):
        assert key_partition(ref.encode(), 6) == DefaultPartitioner()(ref.encode(), list(range(6)), list(range(6)))


def test_updates_round_trip_exactly():
    from pipeline.engine.alerts import AlertChange
    from pipeline.engine.engine import Contribution

    c = Contribution("location:X", "r", "fire", 22.5, 1730768400.123456, ("a", "b"), 1209600.0, "1", 33.3, "medium")
    a = AlertChange("raised", "abc", "location:X", "high", "L01", ("r",), 1730768400.1, 61.234567)
    assert codec.update_of(codec.contribution_value(c)) == c
    assert codec.alert_of(codec.alert_value(a)) == a


def test_log_lines_are_json_with_a_correlation_id():
    fmt = JsonFormatter()
    record = logging.LogRecord("riskwatch.stream.ingest", logging.INFO, __file__, 1, "duplicate", (), None)
    record.event_id = "e-1"
    record.partition = 2
    doc = json.loads(fmt.format(record))
    assert doc["msg"] == "duplicate" and doc["correlation_id"] == "e-1" and doc["partition"] == 2
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "rejected", (), None)
    record.event_id, record.partition, record.offset = None, 1, 9
    assert json.loads(fmt.format(record))["correlation_id"] == "events.raw/1/9"
