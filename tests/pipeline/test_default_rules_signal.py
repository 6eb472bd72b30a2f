"""Signal, not noise, in the default rules: a smoke alarm the detector cleared as false does not
score a flat, one that was not cleared does; on a simulated week, no place is at 一般 or above because of
cleared smoke alarms alone."""

from __future__ import annotations

import json

from pipeline.area import load_area
from pipeline.configset import load_config
from pipeline.replay import replay
from pipeline.simulate import iter_lines, simulate


def _smoke(event_id: str, unit: str, cleared: bool | None) -> bytes:
    attributes = {"device_id": f"USD-1-{unit}", "cause": "cooking"}
    if cleared is not None:
        attributes["cleared"] = cleared
    return json.dumps({"event_id": event_id, "kind": "monitoring", "type": "smoke_alarm",
                       "occurred_at": "2024-11-05T12:00:00+08:00", "source": "sensor-gw", "severity": 2,
                       "location": {"id": f"HD-1-{unit}", "building": "1", "floor": 12},
                       "attributes": attributes}).encode()


def test_a_cleared_smoke_alarm_scores_nothing():
    result = replay([_smoke("s1", "1201", True), _smoke("s2", "1202", False), _smoke("s3", "1203", None)],
                    load_config())
    scored = {c.entity for c in result.contributions if c.rule == "smoke-alarm"}
    assert scored == {"location:HD-1-1202", "location:HD-1-1203"}


def test_cleared_smoke_alarms_put_no_place_above_low():
    config = load_config()
    sim = simulate(7, 1, area=load_area())
    events = sim.events
    cleared = {e["event_id"] for e in events if e["type"] == "smoke_alarm" and (e.get("attributes") or {}).get("cleared")}
    assert len(cleared) > 10, "the simulated week has cleared smoke alarms to test with"
    result = replay(iter_lines(sim), config, until=sim.end.timestamp())
    from_cleared = [c for c in result.contributions if set(c.events) & cleared]
    assert from_cleared == []
