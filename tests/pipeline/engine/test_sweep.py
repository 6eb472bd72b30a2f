"""Pruning never changes a result: the same events with a sweep forced after every event, and with no sweep
at all, give the same contributions (points, building) and alerts (assignee). What identifies an entity —
its building, which decides the multiplier and the leader — survives a sweep (hypothesis)."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.contract import Event, parse_event
from pipeline.engine import engine as engine_module
from pipeline.engine.engine import Engine
from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import D, H

END_OF_TIME = 253402300799.0  # read "now": the generated times stretch years past T0

RULES = [
    ek.rule("p", target="person", category="public_order", when={"kind": "dispute", "type": "reported"}, score=35,
            alert=True),
    ek.rule("l", category="public_order", when={"kind": "monitoring", "type": "access_forced"}, score=20),
    ek.rule("t", "threshold", category="public_order", when={"kind": "monitoring", "type": "access_forced"},
            count=2, window="1d", score=30),
    ek.rule("s", "sequence", target="person", category="public_order",
            steps=[{"kind": "dispute", "type": "reported"}, {"kind": "dispute", "type": "escalated"}],
            within="3d", score=40),
]

_kinds = st.sampled_from([("dispute", "reported"), ("dispute", "escalated"), ("monitoring", "access_forced")])
_events = st.lists(
    st.tuples(st.integers(0, 24 * 400), _kinds, st.sampled_from(["P-1", "P-2"]),
              st.sampled_from(["HD-1-0301", "HD-2-0702", "LOBBY-X"]), st.sampled_from(["1", "2", None])),
    min_size=1, max_size=30,
)


@pytest.fixture(scope="module")
def cfg(tmp_path_factory):
    return ek.config(tmp_path_factory.mktemp("sweep"), RULES)


def events_of(spec) -> list[Event]:
    cfg_vocab = ek.vocabulary()
    at, out = 0, []
    for i, (gap_h, (kind, type_), person, loc, building) in enumerate(spec):
        at += gap_h * H
        doc = ek.event(f"e{i}", kind, type_, at, loc=loc, building=building,
                       person=person if kind == "dispute" else None)
        ev = parse_event(orjson.dumps(doc), cfg_vocab, now=END_OF_TIME)
        assert isinstance(ev, Event), ev
        out.append(ev)
    return out


def run(cfg, events: list[Event], sweep_every_step: bool) -> list:
    eng = Engine(cfg.rules, cfg.area, cfg.assignments)
    out = []
    for ev in events:
        eng.process(ev)
        if sweep_every_step:
            eng.sweep()
        out += eng.drain()
    eng.finish(events[-1].t + 30 * D)
    return out + eng.drain()


@settings(max_examples=150, deadline=None)
@given(_events)
def test_sweeping_after_every_event_equals_never_sweeping(cfg, monkeypatch_module, spec):
    events = events_of(spec)
    never = run(cfg, events, sweep_every_step=False)
    always = run(cfg, events, sweep_every_step=True)
    assert always == never


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    mp.setattr(engine_module, "SWEEP_EVERY", float("inf"))   # "never": not even the engine's daily sweep
    yield mp
    mp.undo()


def test_the_issue_case_building_survives_three_idle_days(cfg, monkeypatch_module):
    """A person first seen in building 1 keeps building 1's leader, and a place keeps its building's
    multiplier (20 × 1.5), after days with nothing left to remember about them."""
    spec = [(0, ("dispute", "reported"), "P-1", "HD-1-0301", "1"),
            (0, ("monitoring", "access_forced"), "P-1", "LOBBY-X", "1"),
            (24 * 200, ("dispute", "reported"), "P-1", "HD-2-0702", "2"),
            (0, ("monitoring", "access_forced"), "P-1", "LOBBY-X", None)]
    events = events_of(spec)
    swept = run(cfg, events, sweep_every_step=True)
    assert swept == run(cfg, events, sweep_every_step=False)
    place = [c for c in swept if getattr(c, "entity", "") == "location:LOBBY-X" and c.rule == "l"]
    assert [c.points for c in place] == [30.0, 30.0]
    raised = [a for a in swept if getattr(a, "change", None) == "raised" and a.entity == "person:P-1"]
    assert raised and {a.assignee for a in raised} == {"L01"}
