"""Property tests of the engine with the project's rules (hypothesis, modest example counts).

(a) Interleaving per-entity event sequences differently, keeping the merged stream sorted by
    occurred_at (ties in any order), never changes any entity's line (score, level, contributions)
    nor the alerts each entity gets.
(b) Replaying the same input twice gives identical output.
"""


from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.pipeline import enginekit as ek
from tests.pipeline.enginekit import D, H, M

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (kind, type, extra fields) — chosen to drive every rule type of config/rules.yaml
TEMPLATES = [
    ("monitoring", "ebike_indoor_charging", {}),
    ("monitoring", "smoke_alarm", {}),
    ("monitoring", "gas_alarm", {"severity": 4}),
    ("monitoring", "fire_exit_blocked", {}),
    ("monitoring", "access_forced", {}),
    ("monitoring", "device_offline", {}),
    ("monitoring", "crowd_gathering", {"severity": 3}),
    ("hazard", "found", {"attributes": {"hazard_id": "H1"}}),
    ("hazard", "found", {"attributes": {"hazard_id": "H2"}}),
    ("hazard", "rectified", {"attributes": {"hazard_id": "H1"}}),
    ("hazard", "reopened", {}),
    ("patrol", "checkpoint_visit", {}),
    ("patrol", "issue_found", {"severity": 3, "tags": ["ebike_in_corridor"]}),
    ("dispute", "reported", {"attributes": {"case_id": "C1"}}),
    ("dispute", "reported", {"attributes": {"case_id": "C2"}}),
    ("dispute", "mediation_held", {"attributes": {"outcome": "failed"}}),
    ("dispute", "escalated", {"tags": ["threat_of_violence"]}),
    ("dispute", "resolved", {"attributes": {"case_id": "C1"}}),
    ("enforcement", "penalty_issued", {}),
    ("petition", "received", {}),
]
GAPS = [0, 0, 1, 60, 30 * M, 1 * H, 5 * H, 1 * D, 4 * D]

step = st.tuples(st.sampled_from(GAPS), st.integers(0, len(TEMPLATES) - 1), st.integers(0, 2))
group = st.lists(step, min_size=1, max_size=8)
groups_strategy = st.lists(group, min_size=1, max_size=4)


def group_events(g: int, steps) -> list[dict]:
    """One group's events: its own building, locations, checkpoint, person and business, so no entity
    receives events from two groups."""
    out, t = [], 0
    for i, (gap, tmpl, place) in enumerate(steps):
        t += gap
        kind, type_, extra = TEMPLATES[tmpl]
        role = "operator" if kind == "enforcement" else "party"
        out.append(ek.event(
            f"g{g}-{i}", kind, type_, t,
            location={"id": f"G{g}-L{place}", "building": f"B{g}", "checkpoint": f"CP-G{g}"},
            subjects=[{"type": "person", "id": f"P-G{g}", "role": role},
                      {"type": "business", "id": f"B-G{g}", "role": role}],
            **extra,
        ))
    return out


def merge(seqs, choose) -> list[dict]:
    """Interleave keeping each sequence's order and the merged stream sorted by occurred_at;
    `choose(n)` picks which of the n sequences tied at the earliest time goes next."""
    pos = [0] * len(seqs)
    out = []
    while True:
        heads = [(ek.parse_time_of(s[p]), i) for i, (s, p) in enumerate(zip(seqs, pos, strict=False)) if p < len(s)]
        if not heads:
            return out
        earliest = min(t for t, _ in heads)
        tied = [i for t, i in heads if t == earliest]
        pick = tied[choose(len(tied))] if len(tied) > 1 else tied[0]
        out.append(seqs[pick][pos[pick]])
        pos[pick] += 1


def per_entity(recs):
    entities = {r["entity"]: r for r in ek.of_type(recs, "entity")}
    alerts = {}
    for a in ek.of_type(recs, "alert"):
        alerts.setdefault(a["entity"], []).append(a)
    return entities, alerts


@SETTINGS
@given(groups=groups_strategy, data=st.data(), until=st.sampled_from([None, 0, 2 * D, 20 * D]))
def test_interleaving_never_changes_an_entitys_line(groups, data, until):
    cfg = ek.project_config()
    seqs = [group_events(g, steps) for g, steps in enumerate(groups)]
    canonical = merge(seqs, lambda n: 0)
    shuffled = merge(seqs, lambda n: data.draw(st.integers(0, n - 1)))
    assert sorted(e["event_id"] for e in shuffled) == sorted(e["event_id"] for e in canonical)
    end = None if until is None else max(ek.parse_time_of(e) for e in canonical) - ek.T0_EPOCH + until
    a = ek.records(cfg, canonical, until=end)
    b = ek.records(cfg, shuffled, until=end)
    assert per_entity(a) == per_entity(b)
    assert ek.of_type(a, "summary") == ek.of_type(b, "summary")


@SETTINGS
@given(groups=groups_strategy, data=st.data())
def test_interleaving_of_single_sequences_preserves_each_sequences_contributions(groups, data):
    """The same property seen on the contributions the engine emits, entity by entity."""
    cfg = ek.project_config()
    seqs = [group_events(g, steps) for g, steps in enumerate(groups)]
    canonical = merge(seqs, lambda n: 0)
    shuffled = merge(seqs, lambda n: data.draw(st.integers(0, n - 1)))

    def by_entity(events):
        out = {}
        for c in ek.run(cfg, events).contributions:
            out.setdefault(c.entity, []).append((c.rule, c.points, c.at, c.events))
        return out

    assert by_entity(canonical) == by_entity(shuffled)


lines_strategy = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(GAPS), st.integers(0, len(TEMPLATES) - 1), st.integers(0, 3)),
        st.sampled_from(["", "{", "[]", '{"event_id": "x"}', "null"]),
    ),
    min_size=0,
    max_size=25,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=lines_strategy, back=st.sampled_from([0, 1 * H, 3 * D]), until=st.sampled_from([None, 5 * D]))
def test_replaying_the_same_input_twice_gives_identical_output(items, back, until):
    cfg = ek.project_config()
    lines, t = [], 0
    for i, item in enumerate(items):
        if isinstance(item, str):
            lines.append(item)
            continue
        gap, tmpl, who = item
        t += gap
        kind, type_, extra = TEMPLATES[tmpl]
        at = t - back if i % 3 == 2 else t  # some events late
        eid = f"e{i % 7}" if who == 3 else f"e{i}"  # some duplicates
        lines.append(ek.event(eid, kind, type_, at, loc=f"HD-1-0{who}01", building="1", checkpoint="CP-1-F06",
                              person=f"P-{who}", **extra))
    first = ek.records(cfg, lines, until=until)
    second = ek.records(cfg, lines, until=until)
    assert first == second
    summary = first[-1]
    assert summary["type"] == "summary"
    assert summary["events"] == sum(1 for x in lines if x != "")
    assert summary["accepted"] + summary["duplicates"] + summary["rejected"] == summary["events"]
