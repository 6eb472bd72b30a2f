"""Alerts ended by the workflow reach the scorers (streams/ended.py, PartitionScorer.end_alert)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from streams.ended import OVERLAP, EndedAlerts
from streams.scoring import PartitionScorer
from tests.pipeline import enginekit as ek
from tests.streams.test_stream_parts import Tok, by_entity_message, line, make_ingest

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_each_ended_alert_is_handed_over_once_and_polling_goes_on_from_the_newest_change():
    ended = EndedAlerts()
    assert ended.since is None
    assert ended.add([("a1", "person:P-1", T0), ("a2", "location:HD-1-0101", T0 + timedelta(minutes=9))]) == [
        ("person:P-1", "a1"), ("location:HD-1-0101", "a2")]
    assert ended.since == T0 + timedelta(minutes=9) - OVERLAP
    assert ended.add([("a2", "location:HD-1-0101", T0 + timedelta(minutes=9))]) == []


def test_a_partition_taken_over_later_gets_the_ended_alerts_of_its_entities():
    ended = EndedAlerts()
    ended.add([("a1", "person:P-1", T0), ("a2", "person:P-2", T0)])
    partition_of = {"person:P-1": 0, "person:P-2": 1}.get
    assert ended.of_partition(1, partition_of) == [("person:P-2", "a2")]


def gas_alarms(scorer: PartitionScorer, ids: list[str], start: float, first_offset: int) -> list:
    ing = make_ingest(clock="wall", partitions=1)
    lines = [line(eid, "monitoring", "gas_alarm", start + 60 * i, severity=4) for i, eid in enumerate(ids)]
    out = ing.process([(0, first_offset + i, raw) for i, raw in enumerate(lines)], now=ek.epoch(start + 3600))
    scorer.receive(by_entity_message(out, 0, []), Tok())
    return scorer.flush(ek.epoch(start + 3600)).alerts


def test_after_the_workflow_ends_an_alert_the_next_firing_raises_a_new_one():
    scorer = PartitionScorer(0, ek.project_config(), clock="wall")
    first = gas_alarms(scorer, ["g1", "g2"], 0, 0)
    assert first[0].change == "raised"
    entity, alert_id = first[0].entity, first[0].alert_id
    scorer.state_writes()
    assert not scorer.end_alert(entity, "another-alert")
    assert scorer.end_alert(entity, alert_id)
    assert entity.encode() in dict(scorer.state_writes()), "the ended alert must reach the table"
    again = gas_alarms(scorer, ["g3", "g4"], 7200, 2)
    assert again[0].change == "raised" and again[0].alert_id != alert_id
