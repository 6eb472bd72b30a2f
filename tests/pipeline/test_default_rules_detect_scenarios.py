"""The default rules against the simulator's ground truth.

Every injected scenario reaches at least its stated level at some point (levels decay, so the peak
is what counts: the level recorded right after each firing), every quiet entity stays without alert,
and no entity outside the scenarios raises an alert: background noise must not page a leader.
"""

from __future__ import annotations

import pytest

from pipeline.area import load_area
from pipeline.configset import load_config
from pipeline.replay import replay
from pipeline.simulate import iter_lines, simulate

LEVEL_RANK = {"low": 0, "medium": 1, "high": 2, "critical": 3}


@pytest.fixture(scope="module", params=[1, 2, 3])
def run(request):
    config = load_config()
    sim = simulate(7, request.param, area=load_area())
    result = replay(iter_lines(sim), config, until=sim.end.timestamp())
    peak: dict[str, str] = {}
    for c in result.contributions:
        if LEVEL_RANK[c.level] > LEVEL_RANK.get(peak.get(c.entity, "low"), 0):
            peak[c.entity] = c.level
    alerted = {a.entity for a in result.alert_changes if a.change == "raised"}
    return sim.truth, result, peak, alerted


def test_every_scenario_reaches_its_level(run):
    truth, _, peak, _ = run
    assert truth["scenarios"], "the simulator wrote no scenarios"
    for scenario in truth["scenarios"]:
        reached = peak.get(scenario["entity"], "low")
        assert LEVEL_RANK[reached] >= LEVEL_RANK[scenario["min_level"]], (scenario["id"], scenario["entity"], reached)


def test_scenarios_at_alert_level_raise_an_alert(run):
    truth, _, _, alerted = run
    for scenario in truth["scenarios"]:
        if LEVEL_RANK[scenario["min_level"]] >= LEVEL_RANK["high"]:
            assert scenario["entity"] in alerted, scenario["id"]


def test_quiet_entities_raise_no_alert(run):
    truth, _, _, alerted = run
    assert truth["quiet"]
    for quiet in truth["quiet"]:
        assert quiet["entity"] not in alerted, quiet


def test_no_alert_outside_the_scenarios(run):
    truth, _, _, alerted = run
    assert alerted <= {s["entity"] for s in truth["scenarios"]}


def test_petitions_never_score_their_filer(run):
    _, result, _, _ = run
    assert not [c for c in result.contributions if c.entity == "person:P-0201"]
