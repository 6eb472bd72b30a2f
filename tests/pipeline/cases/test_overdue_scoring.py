"""The default rules count an overdue hazard or dispute for as long as it is open (max_repeats: unlimited)."""

from __future__ import annotations

import json

from pipeline.replay import replay
from tests.pipeline.cases.casekit import at, event

DAY = 86400


def _firings(config, events, until, rule):
    lines = [json.dumps(e).encode() for e in events]
    result = replay(lines, config, until=until.timestamp())
    return sorted(c.at for c in result.contributions if c.rule == rule)


def test_an_unrectified_hazard_keeps_counting_daily_while_open(config):
    found = event("h1", at(1), "hazard", "found", location="HD-2-09-corridor", building="2", hazard_id="HZ-1")
    fired = _firings(config, [found], at(10, month=12), "hazard-overdue")
    # 3 days after found, then every day until the end of input: 40 days later it still counts.
    assert fired[0] == at(4).timestamp()
    assert len(fired) == (at(10, month=12) - at(4)).days + 1
    assert all(b - a == DAY for a, b in zip(fired, fired[1:], strict=False))


def test_verification_or_rectification_stops_the_count(config):
    where = {"location": "HD-2-09-corridor", "building": "2"}
    for closing in ("rectified", "verified"):
        events = [event("h1", at(1), "hazard", "found", hazard_id="HZ-1", **where),
                  event("h2", at(8, 12), "hazard", closing, hazard_id="HZ-1", **where)]
        fired = _firings(config, events, at(30), "hazard-overdue")
        assert [t - at(4).timestamp() for t in fired] == [d * DAY for d in range(5)], closing


def test_a_reopened_hazard_counts_again(config):
    where = {"location": "HD-2-09-corridor", "building": "2"}
    events = [event("h1", at(1), "hazard", "found", hazard_id="HZ-1", **where),
              event("h2", at(2), "hazard", "rectified", hazard_id="HZ-1", **where),
              event("h3", at(10), "hazard", "reopened", hazard_id="HZ-1", **where)]
    fired = _firings(config, events, at(20), "hazard-overdue")
    assert fired[0] == at(13).timestamp() and len(fired) == 8


def test_an_unresolved_dispute_keeps_counting_weekly(config):
    reported = event("d1", at(1), "dispute", "reported", persons=("P-0201",), case_id="MD-1",
                     location="HD-1-1507", building="1")
    fired = _firings(config, [reported], at(28, month=12), "dispute-unresolved")
    # 14 days after reported, then every 7 days to the end of input (57 days): past the old limit of 4 repeats.
    assert [round((t - at(1).timestamp()) / DAY) for t in fired] == list(range(14, 58, 7))
