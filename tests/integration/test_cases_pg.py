"""Cases on PostgreSQL (scratch database rw_cases_<uuid>): the writer keeps the cases table current through
COPY-sized and small batches alike, the §8 brief equals the one SQLite gives for the same scenario, the
包保领导 dashboard's SQL (expanded as Grafana would) reports each leader's open and overdue cases, and the
Grafana role reads the case tables but not their free text."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dashboards import catalog
from dashboards.common import UID_LEADERS
from dashboards.macros import TimeRange
from dashboards.queryrun import run_dashboard
from pipeline.cases.brief import meeting_brief
from pipeline.cases.derive import derive_cases
from pipeline.cases.store import CASES
from pipeline.configset import load_config
from pipeline.storage.db import make_engine, open_database
from tests.integration import pgkit
from tests.pipeline.cases.casekit import UTC, act, at, meet, scenario_events, store

pytestmark = pytest.mark.integration
WEEKS = ("2024-W45", "2024-W46", "2024-W47")


def _build(url: str, cfg):
    engine = open_database(url) if url.startswith("sqlite") else make_engine(url)
    store(url, cfg, scenario_events(), until=at(25))
    act(engine, cfg)
    meet(engine, cfg)
    return engine


@pytest.fixture(scope="module")
def world(pg_url, tmp_path_factory):
    cfg = load_config()
    lite_url = f"sqlite:///{tmp_path_factory.mktemp('cases') / 'rw.db'}"
    lite = _build(lite_url, cfg)
    with pgkit.scratch_database(pg_url, "cases") as url, pgkit.server_lock():
        engine = _build(url, cfg)
        try:
            yield engine, lite, cfg
        finally:
            engine.dispose()
            lite.dispose()


def test_the_brief_on_postgresql_equals_sqlites(world):
    engine, lite, cfg = world
    for week in WEEKS:
        with engine.connect() as pg, lite.connect() as sq:
            assert meeting_brief(pg, cfg.area, cfg.assignments, week) == \
                meeting_brief(sq, cfg.area, cfg.assignments, week), week


def test_the_cases_table_is_the_full_derivation(world):
    engine, _, cfg = world
    with engine.connect() as conn:
        derived = derive_cases(conn, cfg.assignments)
        stored = {r.ref: r for r in conn.execute(sa.select(CASES))}
    assert set(stored) == set(derived) and len(stored) == 13   # 4 hazards, 4 disputes, 3 alerts, 2 person files
    for ref, case in derived.items():
        row = stored[ref]
        assert (row.state, row.owner, row.is_open, row.due, row.opened_at) == (
            case.state, case.owner, case.is_open, case.due, case.opened_at), ref


def _leaders(engine, cfg, overrides=None):
    built = catalog.build_all(cfg)[UID_LEADERS]
    variables, results = run_dashboard(engine, built, TimeRange(at(18, 0), at(25, 0)), overrides)
    return variables, {r.title: r for r in results}


def test_leader_dashboard_reports_the_briefs_caseloads(world):
    engine, _, cfg = world
    with engine.connect() as conn:
        brief = meeting_brief(conn, cfg.area, cfg.assignments, "2024-W47")
    names = {lid: f"{lid} {leader.name}" for lid, leader in cfg.assignments.leaders.items()}
    _, res = _leaders(engine, cfg)
    per_leader = {r[0]: (r[1], r[2]) for r in res["包保领导案件统计"].rows}
    assert per_leader == {names[lid]: (v["open"], v["overdue"]) for lid, v in brief["by_leader"].items()}
    assert res["在办案件"].rows[0][0] == len(brief["open_cases"])
    assert res["逾期未办结"].rows[0][0] == sum(v["overdue"] for v in brief["by_leader"].values())
    listed = {r[0]: r for r in res["在办案件清单"].rows}
    assert set(listed) == {c["ref"] for c in brief["open_cases"]}
    for c in brief["open_cases"]:
        assert listed[c["ref"]][9] == c["days_overdue"], c["ref"]
    assert res["待落实研判意见"].rows[0][0] == 4   # every decision not marked done, whatever its week


def test_leader_filter_and_case_drill_down(world):
    engine, _, cfg = world
    _, res = _leaders(engine, cfg, {"leader": ["L05"], "case": "hazard:HZ-A"})
    assert [r[0] for r in res["在办案件清单"].rows] == ["hazard:HZ-A"]
    records = res["案件处置记录"].rows
    assert [(r[0].astimezone(UTC), r[1], r[3]) for r in records] == [(at(20).astimezone(UTC), "转办", "L05 分管副主任")]
    decided = res["案件研判意见"].rows
    # due Nov 15 and Nov 29, neither marked done: the first is late at Nov 25 00:00, the second not yet
    assert [(r[2], str(r[3]), r[4]) for r in decided] == [("L02 2号楼包保领导", "2024-11-15", "逾期未落实"),
                                                        ("L02 2号楼包保领导", "2024-11-29", "落实中")]


def test_grafana_role_reads_cases_but_not_free_text(world):
    engine, _, cfg = world
    reader = sa.create_engine(engine.url.set(username="riskwatch_grafana", password="riskwatch_grafana"))
    try:
        _, res = _leaders(reader, cfg)
        assert res["在办案件"].rows[0][0] > 0
        with reader.connect() as conn:
            for sql in ("SELECT text FROM case_actions", "SELECT text FROM decisions", "SELECT done_note FROM decisions",
                        "SELECT * FROM case_actions", "DELETE FROM cases", "UPDATE decisions SET owner = 'L01'"):
                # writes stop at the role's read-only default or, past it, at the missing privilege
                with pytest.raises(sa.exc.DBAPIError, match="permission denied|read-only transaction"):
                    conn.execute(sa.text(sql))
                conn.rollback()
    finally:
        reader.dispose()
