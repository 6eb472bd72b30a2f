"""Properties of the derivation over random hazard and dispute histories stored in random batches: the
cases table the writer keeps batch by batch equals a full derivation, and as_of only ever reads the past."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.cases.derive import derive_cases
from pipeline.cases.model import ENDED_STATES
from pipeline.cases.store import CASES
from pipeline.configset import load_config
from tests.conftest import examples
from tests.pipeline.cases.casekit import at, event, store

CONFIG = load_config()
TYPES = {"hazard": ("found", "rectified", "verified", "reopened"),
         "dispute": ("reported", "mediation_held", "escalated", "referred", "resolved")}
PLACES = (("HD-1-1203", "1"), ("HD-2-09-corridor", "2"), (None, None))

step = st.tuples(st.sampled_from(("hazard", "dispute")), st.integers(0, 2), st.integers(0, 4),
                 st.integers(0, 20 * 24), st.sampled_from(PLACES), st.booleans())


def _events(steps) -> list[dict]:
    out = []
    for n, (kind, ident, t, hours, (loc, building), with_due) in enumerate(steps):
        type_ = TYPES[kind][t % len(TYPES[kind])]
        key = "hazard_id" if kind == "hazard" else "case_id"
        extra = {"due_at": at(8)} if with_due else {}
        out.append(event(f"e{n}", at(1) + timedelta(hours=hours), kind, type_,
                         location=loc, building=building, **{key: f"C-{ident}"}, **extra))
    return out


@settings(max_examples=examples(250))
@given(st.lists(step, min_size=1, max_size=25), st.lists(st.integers(1, 6), min_size=1, max_size=5))
def test_batches_keep_the_table_equal_to_a_full_derivation(steps, cuts):
    import sqlalchemy as sa

    from pipeline.storage.db import open_database

    events = _events(steps)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'rw.db'}"
        engine = open_database(url)
        try:
            i, k = 0, 0
            while i < len(events):           # stored in arbitrary batches, in arrival order
                n = cuts[k % len(cuts)]
                store(url, CONFIG, events[i:i + n])
                i, k = i + n, k + 1
            with engine.connect() as conn:
                derived = derive_cases(conn, CONFIG.assignments)
                stored = {r.ref: r for r in conn.execute(sa.select(CASES))}
                halfway = derive_cases(conn, CONFIG.assignments, at(10))
        finally:
            engine.dispose()
    assert set(stored) == set(derived)
    for ref, case in derived.items():
        row = stored[ref]
        assert (row.state, row.owner, row.is_open) == (case.state, case.owner, case.is_open), ref
        assert case.is_open == (case.state not in ENDED_STATES)
        assert (case.closed_at is None) == case.is_open
        assert case.last_action_at >= case.opened_at
        assert case.days_overdue(at(30)) >= 0
    for ref, case in halfway.items():   # the past never depends on what came later
        assert case.opened_at < at(10) and case.last_action_at < at(10), ref
        assert ref in derived
