"""The ground truth: each scenario's pattern is in the stream exactly as promised, and the background
never forms the same pattern on another entity."""

from __future__ import annotations

from collections import defaultdict

import pytest

from pipeline.simulate import simulate

H = 3600
D = 86400
EXPECTED = {
    "S1": ("person:P-0101", "high"),
    "S2": ("location:HD-1-1203", "critical"),
    "S3": ("building:2", "high"),
    "S4": ("checkpoint:CP-2-ROOF", "medium"),
    "S5": ("location:HD-2-09-corridor", "medium"),
    "S6": ("building:1", "high"),
    "S7": ("location:HD-2-01-S02", "high"),
}


def _entities(event: dict) -> set[str]:
    loc = event.get("location", {})
    out = {f"{s['type']}:{s['id']}" for s in event.get("subjects", [])}
    for key, target in (("id", "location"), ("building", "building"), ("checkpoint", "checkpoint")):
        if key in loc:
            out.add(f"{target}:{loc[key]}")
    return out


@pytest.fixture(scope="module")
def world(week):
    sim, records = week
    by_id = {r.event["event_id"]: r for r in records}
    scenario_ids = {e for s in sim.truth["scenarios"] for e in s["events"]}
    background = [r for r in records if r.event["event_id"] not in scenario_ids]
    return sim.truth, by_id, background, records


def _events(world, sid):
    truth, by_id, _, _ = world
    (scenario,) = [s for s in truth["scenarios"] if s["id"] == sid]
    return [by_id[e] for e in scenario["events"]]


def test_truth_lists_every_scenario_and_quiet_entity(world):
    truth, by_id, _, _ = world
    assert {s["id"]: (s["entity"], s["min_level"]) for s in truth["scenarios"]} == EXPECTED
    for s in truth["scenarios"]:
        assert s["events"] and s["why"]
        for e in s["events"]:
            assert s["entity"] in _entities(by_id[e].event), (s["id"], e)
    assert [q["entity"] for q in truth["quiet"]] == ["person:P-0201", "person:P-0202", "business:B-0009"]


def test_all_scenarios_fit_in_three_days(area):
    short = simulate(3, 99, area=area)
    truth = short.truth
    assert [s["id"] for s in truth["scenarios"]] == list(EXPECTED)
    ids = {e["event_id"] for e in short.events}
    assert all(set(s["events"]) <= ids for s in truth["scenarios"])
    # a single day is too short for most; only complete scenarios are promised
    assert len(simulate(1, 99, area=area).truth["scenarios"]) < len(EXPECTED)


def test_s1_dispute_escalates_to_a_threat(world):
    ev = [r.event for r in _events(world, "S1")]
    assert [e["type"] for e in ev] == ["reported", "mediation_held", "reported", "escalated", "referred"]
    assert ev[1]["attributes"]["outcome"] == "failed"
    assert ev[0]["attributes"]["case_id"] == ev[1]["attributes"]["case_id"] != ev[2]["attributes"]["case_id"]
    assert "threat_of_violence" in ev[4]["tags"] and not any("threat_of_violence" in e["tags"] for e in ev[:4])
    for e in ev:
        assert {"type": "person", "id": "P-0101", "role": "party"} in e["subjects"]


def test_s1_pattern_not_in_background(world):
    _, _, background, _ = world
    reports = defaultdict(int)
    for r in background:
        e = r.event
        if e["kind"] == "dispute":
            assert "threat_of_violence" not in e.get("tags", []) and e["type"] != "escalated"
            if e["type"] == "reported":
                for s in e["subjects"]:
                    reports[s["id"]] += 1
    assert max(reports.values()) == 1


def test_s2_charging_then_smoke(world):
    recs = _events(world, "S2")
    assert [r.event["type"] for r in recs] == ["ebike_indoor_charging"] * 3 + ["smoke_alarm"]
    assert recs[2].t - recs[0].t <= 3 * D and recs[3].t - recs[2].t <= 24 * H
    assert recs[3].event["severity"] == 4


def test_s2_pattern_not_in_background(world):
    _, _, background, _ = world
    charging = defaultdict(list)
    for r in background:
        if r.event["type"] == "ebike_indoor_charging":
            charging[r.event["location"]["id"]].append(r.t)
        if r.event["type"] == "smoke_alarm":
            assert r.event["severity"] <= 3
    assert "HD-1-1203" not in charging
    assert all(len(times) == 1 for times in charging.values())  # one per place in 28 days


def _scored(event: dict) -> bool:
    """Background events that carry a score under the default rules (one per place in 28 days)."""
    type_, tags = event["type"], event.get("tags", [])
    if type_ in ("smoke_alarm", "ebike_indoor_charging", "fire_exit_blocked", "access_forced", "reopened"):
        return True
    return type_ == "issue_found" and (event["severity"] >= 3 or "ebike_in_corridor" in tags)


def test_background_signals_never_add_up_at_one_place(world):
    _, _, background, _ = world
    scored, offline = defaultdict(list), defaultdict(list)
    for r in background:
        if _scored(r.event):
            scored[r.event["location"]["id"]].append(r.t)
        elif r.event["type"] == "device_offline":
            offline[r.event["location"]["id"]].append(r.t)
        if r.event["type"] in ("crowd_gathering", "gas_alarm", "water_leak"):
            assert r.event["severity"] <= 2
    assert len(scored) > 100
    for place, times in scored.items():
        assert all(b - a >= 28 * D for a, b in zip(times, times[1:], strict=False)), place
    for place, times in offline.items():
        assert all(c - a >= D for a, c in zip(times, times[2:], strict=False)), place  # never 3 within 24 h


def _max_distinct(records, type_, building, window):
    hits = [(r.t, r.event["location"]["id"]) for r in records
            if r.event["type"] == type_ and r.event["location"]["building"] == building]
    return max((len({p for t2, p in hits if t <= t2 <= t + window}) for t, _ in hits), default=0)


def test_s3_and_s6_distinct_places(world):
    s3, s6 = _events(world, "S3"), _events(world, "S6")
    assert {r.event["type"] for r in s3} == {"fire_exit_blocked"}
    assert len({r.event["location"]["id"] for r in s3}) == 3 and s3[-1].t - s3[0].t <= 2 * D
    assert {r.event["type"] for r in s6} == {"access_forced"}
    assert len({r.event["location"]["id"] for r in s6}) == 3 and s6[-1].t - s6[0].t <= 6 * H
    _, _, background, records = world
    for b in ("1", "2"):
        assert _max_distinct(background, "fire_exit_blocked", b, 2 * D) <= 1
        assert _max_distinct(background, "access_forced", b, 6 * H) <= 1
    # the scenario windows are free of background events of the same type in that building
    assert _max_distinct(records, "fire_exit_blocked", "2", 2 * D) == 3
    assert _max_distinct(records, "access_forced", "1", 6 * H) == 3


def test_s4_one_night_gap_only(world, area):
    _, _, _, records = world
    last, worst = {}, defaultdict(int)
    for r in records:
        if r.event["type"] == "checkpoint_visit":
            cp = r.event["location"]["checkpoint"]
            if cp in last:
                worst[cp] = max(worst[cp], r.t - last[cp])
            last[cp] = r.t
    assert len(worst) == len(area.checkpoints)
    assert worst.pop("CP-2-ROOF") >= 14 * H
    assert max(worst.values()) < 90 * 60
    sources = {r.event["source"] for r in records if r.event["type"] == "checkpoint_visit"}
    assert sources == {"patrol-app", "guard-tour"}
    before, after = _events(world, "S4")
    assert after.t - before.t >= 14 * H
    assert before.event["location"]["checkpoint"] == after.event["location"]["checkpoint"] == "CP-2-ROOF"


def test_s5_hazard_never_rectified_and_background_hazards_close(world):
    (found,) = _events(world, "S5")
    attrs = found.event["attributes"]
    assert found.event["type"] == "found" and attrs["category"] == "fire"
    from datetime import datetime

    assert datetime.fromisoformat(attrs["due_at"]).timestamp() - found.t == 3 * D
    truth, _, background, records = world
    hz = attrs["hazard_id"]
    assert [r.event["type"] for r in records if r.event.get("attributes", {}).get("hazard_id") == hz] == ["found"]
    opened, closed = {}, {}
    for r in background:
        if r.event["kind"] == "hazard":
            h = r.event["attributes"]["hazard_id"]
            if r.event["type"] == "found":
                opened[h] = r.t
            elif r.event["type"] == "rectified":
                closed.setdefault(h, r.t)
    end = datetime.fromisoformat(truth["end"]).timestamp()
    assert opened and all(closed.get(h, end) - t < 3 * D for h, t in opened.items())


def test_s7_gas_and_background_gas_is_low(world):
    (gas,) = _events(world, "S7")
    assert gas.event["type"] == "gas_alarm" and gas.event["severity"] == 4
    _, _, background, _ = world
    for r in background:
        if r.event["type"] == "gas_alarm":
            assert r.event["severity"] <= 2 and r.event["location"]["id"] != "HD-2-01-S02"
        if r.event["kind"] == "monitoring":
            assert r.event.get("severity", 1) <= 3


def test_quiet_entities(world):
    _, _, _, records = world
    about = defaultdict(list)
    for r in records:
        for s in r.event.get("subjects", []):
            about[s["id"]].append(r)
    p0201 = about["P-0201"]
    assert sum(r.event["type"] == "received" for r in p0201) == 6
    assert all(r.event["kind"] == "petition" and r.event["subjects"][0]["role"] == "complainant" for r in p0201)
    p0202 = about["P-0202"]
    assert [r.event["type"] for r in p0202] == ["reported", "mediation_held", "resolved"]
    assert p0202[-1].t - p0202[0].t < D
    b0009 = about["B-0009"]
    assert len(b0009) >= 3
    assert all(r.event["type"] == "unit_inspected" and r.event["attributes"]["findings"] == 0 for r in b0009)


def test_scenario_places_have_no_background_signals(world):
    _, _, background, _ = world
    places = {"HD-1-1203", "HD-2-09-corridor", "HD-2-01-S02"}
    kinds = {r.event["kind"] for r in background if r.event.get("location", {}).get("id") in places}
    assert kinds <= {"inspection"}  # the shop's operator may be inspected; nothing there is scored
