"""The simulated stream as a whole: determinism, order, the event contract, volume, malformed lines."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta

import orjson
import pytest

from pipeline.contract import GUARDED_ATTRIBUTES, Rejection, parse_event
from pipeline.simulate import iter_lines, simulate, truth_path, write_jsonl
from pipeline.simulate.command import simulate_command

_RFC3339_CST = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$")


def _bytes(sim) -> bytes:
    return b"\n".join(iter_lines(sim))


def test_same_seed_same_bytes_other_seed_differs(area):
    a, b, c = simulate(1, 5, area=area), simulate(1, 5, area=area), simulate(1, 6, area=area)
    assert _bytes(a) == _bytes(b)
    assert a.truth == b.truth
    assert _bytes(a) != _bytes(c)
    noisy = [_bytes(simulate(1, 5, area=area, malformed_rate=0.1)) for _ in range(2)]
    assert noisy[0] == noisy[1] != _bytes(a)


def test_iterating_twice_gives_the_same_events(area):
    sim = simulate(1, 3, area=area)
    assert list(sim) == list(sim) == sim.events


def test_time_order_ids_and_timestamps(week):
    sim, records = week
    times = [r.t for r in records]
    assert times == sorted(times)
    assert [r.event["event_id"] for r in records] == [f"sim-11-{n:07d}" for n in range(1, len(records) + 1)]
    start, end = sim.start.timestamp(), sim.end.timestamp()
    for r in records:
        occurred = r.event["occurred_at"]
        assert _RFC3339_CST.match(occurred), occurred
        assert datetime.fromisoformat(occurred).timestamp() == r.t
        assert start <= r.t < end
    assert sim.truth["start"] == "2024-11-04T00:00:00+08:00"
    assert sim.truth["end"] == "2024-11-11T00:00:00+08:00"


def test_every_event_passes_the_contract(week, vocab):
    _, records = week
    ids = set()
    for r in records:
        parsed = parse_event(r.line, vocab)
        assert not isinstance(parsed, Rejection), (parsed, r.line[:300])
        ids.add(parsed.event_id)
    assert len(ids) == len(records)  # no duplicates without malformed_rate


def test_every_kind_and_type_occurs(week, week_noisy, vocab):
    seen = {(r.event["kind"], r.event["type"]) for run in (week, week_noisy) for r in run[1]}
    expected = {(k, t) for k, types in vocab.kinds.items() for t in types}
    # penalties and reopened hazards are rare (a few a month): not every week has one
    assert expected - seen <= {("enforcement", "penalty_issued"), ("hazard", "reopened")}


def test_no_guardrail_attribute_and_no_names(week):
    _, records = week
    for r in records:
        assert not set(r.event.get("attributes", {})) & GUARDED_ATTRIBUTES
        for s in r.event.get("subjects", []):
            assert re.fullmatch(r"[PB]-\d{4}", s["id"]), s


def test_volume_per_week(week):
    _, records = week
    assert 15_000 <= len(records) <= 25_000
    kinds = Counter(r.event["kind"] for r in records)
    assert kinds["patrol"] > 6_000 and kinds["monitoring"] > 7_000
    assert all(kinds[k] > 0 for k in ("dispute", "hazard", "inspection", "petition", "outreach"))


def test_malformed_lines(week_noisy, vocab):
    sim, records = week_noisy
    reasons = Counter()
    accepted: Counter = Counter()
    for r in records:
        parsed = parse_event(r.line, vocab)
        if isinstance(parsed, Rejection):
            reasons[parsed.reason.split(":")[0]] += 1
        else:
            accepted[parsed.event_id] += 1
    assert {"invalid_json", "missing_field", "unknown_kind", "naive_timestamp", "too_large"} <= set(reasons)
    assert {"unknown_field", "unknown_type", "invalid_field", "not_an_object"} <= set(reasons)
    duplicates = sum(n - 1 for n in accepted.values())
    assert duplicates > 0
    assert 0.04 <= (sum(reasons.values()) + duplicates) / len(records) <= 0.06
    assert any(len(r.line) > 64 * 1024 for r in records)
    non_utf8 = 0
    for r in records:
        try:
            r.line.decode("utf-8")
        except UnicodeDecodeError:
            non_utf8 += 1
    assert non_utf8 > 0
    # the scenarios are untouched
    for scenario in sim.truth["scenarios"]:
        assert all(accepted[e] >= 1 for e in scenario["events"]), scenario["id"]


def test_write_jsonl_and_truth_file(tmp_path, area):
    sim = simulate(2, 21, area=area)
    out = tmp_path / "sub" / "events.jsonl"
    count, truth_file = write_jsonl(sim, out)
    assert truth_file == truth_path(out) == tmp_path / "sub" / "events.jsonl.truth.json"
    data = out.read_bytes()
    assert data.endswith(b"\n") and data.count(b"\n") == count
    assert data.split(b"\n")[:-1] == list(iter_lines(sim))
    first = data.split(b"\n", 1)[0]
    assert first.startswith(b'{"event_id":"sim-21-0000001","kind":') and b", " not in first[:200]
    truth = orjson.loads(truth_file.read_bytes())
    assert truth == sim.truth and truth["seed"] == 21 and truth["days"] == 2
    assert "\\u" not in truth_file.read_text(encoding="utf-8")  # Chinese kept as is


def test_command_writes_file_and_prints_summary(tmp_path, capsys):
    out = tmp_path / "sim.jsonl"
    simulate_command(days=1, seed=4, to=str(out), start="2025-03-03", malformed_rate=0.0,
                     topic="events.raw", partitions=4)
    summary = capsys.readouterr().out.strip()
    assert summary.startswith("simulated ") and str(out) in summary and "1 days" in summary
    first = orjson.loads(out.read_bytes().split(b"\n", 1)[0])
    assert first["occurred_at"].startswith("2025-03-03T00:")
    assert truth_path(out).exists()


def test_start_is_read_in_the_area_zone(area):
    sim = simulate(1, 1, start="2025-01-06T09:00:00", area=area)
    assert sim.start.isoformat() == "2025-01-06T09:00:00+08:00"
    utc = simulate(1, 1, start=datetime.fromisoformat("2025-01-06T01:00:00+00:00"), area=area)
    assert utc.start == sim.start and utc.end - utc.start == timedelta(days=1)
    with pytest.raises(ValueError):
        simulate(0, 1, area=area)
    with pytest.raises(ValueError):
        simulate(1, 1, area=area, malformed_rate=1.5)


def test_command_refuses_a_bad_start_in_one_line(tmp_path):
    from pipeline.errors import UsageError

    with pytest.raises(UsageError) as info:
        simulate_command(days=1, seed=1, to=str(tmp_path / "x.jsonl"), start="next monday", malformed_rate=0.0,
                         topic="events.raw", partitions=1)
    assert info.value.exit_code == 2
    assert str(info.value) == "--start: not an RFC 3339 time or a date: 'next monday'"
    assert not (tmp_path / "x.jsonl").exists()
