"""Indicators that were wrong on PostgreSQL, each on a small set of events that exposes it:
覆盖天数 8 in a 7-day week (the integer cast rounded), the floor heat coloured by a sum of low places,
按期整改率 100 % beside an overdue hazard, 纠纷总数 smaller than the ledger below it; and the entity names
the dashboards' SQL builds agree with pipeline/labels.py."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from dashboards import catalog
from dashboards.common import entity_label
from dashboards.macros import TimeRange
from dashboards.queryrun import run_dashboard
from pipeline import labels
from pipeline.configset import load_config
from pipeline.exports import weekly_events
from pipeline.exports.period import iso_week
from pipeline.replay import read_lines, replay
from pipeline.storage.db import make_engine
from pipeline.storage.replay_store import open_replay_store
from tests.integration import pgkit

pytestmark = pytest.mark.integration
TZ = "Asia/Shanghai"
WEEK = iso_week("2024-W45", TZ)          # Monday 2024-11-04 00:00 .. 2024-11-11 00:00 Beijing time


def _at(day: int, hour: int, minute: int = 0) -> str:
    """Beijing time `day` days after the week's Monday."""
    t = WEEK.start + timedelta(days=day, hours=hour, minutes=minute)
    return t.astimezone(labels.BEIJING).isoformat()


def _events() -> list[dict]:
    out: list[dict] = []

    def add(kind: str, type_: str, at: str, **body) -> None:
        out.append({"event_id": f"ind-{len(out):04d}", "kind": kind, "type": type_, "occurred_at": at,
                    "source": "patrol-app" if kind in ("patrol", "hazard") else "sensor-gw", **body})

    # a checkpoint scanned at 01:00 and 23:00 on each of the 7 days: 7 days covered
    cp = {"id": "HD-1-06-corridor", "building": "1", "floor": 6, "checkpoint": "CP-1-F06"}
    for day in range(7):
        for hour in (1, 23):
            add("patrol", "checkpoint_visit", _at(day, hour), location=cp)
    # three small water leaks on floor 9 of building 1: each place is low (10 x 1.5), their sum would be 一般
    for unit in ("01", "02", "03"):
        add("monitoring", "water_leak", _at(6, 10), severity=3, attributes={"device_id": f"WTR-{unit}"},
            location={"id": f"HD-1-09{unit}", "building": "1", "floor": 9})
    # a hazard found in the week and rectified on time; one found the week before, overdue and still open
    place = {"id": "HD-2-09-corridor", "building": "2", "floor": 9}
    add("hazard", "found", _at(1, 10), location=place, severity=2,
        attributes={"hazard_id": "HZ-IND-1", "category": "electrical", "due_at": _at(3, 10)})
    add("hazard", "rectified", _at(2, 10), location=place, attributes={"hazard_id": "HZ-IND-1", "category": "electrical"})
    add("hazard", "found", _at(-5, 10), location=place, severity=2,
        attributes={"hazard_id": "HZ-IND-2", "category": "fire", "due_at": _at(-3, 10)})
    # a dispute reported this week, and one reported the week before and not resolved
    home = {"id": "HD-2-1203", "building": "2", "floor": 12}
    for case, day in (("MD-IND-1", 2), ("MD-IND-2", -4)):
        add("dispute", "reported", _at(day, 19), location=home, severity=2, tags=["neighbour_noise"],
            subjects=[{"type": "person", "id": f"P-09{day + 10:02d}", "role": "party"}],
            attributes={"case_id": case, "channel": "hotline"})
    for e in out:
        e["source"] = {"dispute": "mediation"}.get(e["kind"], e["source"])
    return out


@pytest.fixture(scope="module")
def db(pg_url, tmp_path_factory):
    cfg = load_config()
    path = tmp_path_factory.mktemp("ind") / "events.jsonl"
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in _events()), encoding="utf-8")
    with pgkit.scratch_database(pg_url, "ind") as url, pgkit.server_lock():
        engine = make_engine(url)
        try:
            replayed = replay(read_lines(path), cfg, keep_events=True, until=WEEK.end.timestamp())
            assert not replayed.rejections, replayed.rejections
            open_replay_store(url, cfg)(replayed, source=path)
            yield engine, cfg
        finally:
            engine.dispose()


def _panels(db, uid: str) -> dict:
    engine, cfg = db
    _, results = run_dashboard(engine, catalog.build_all(cfg)[uid], TimeRange(WEEK.start, WEEK.end))
    return {r.title: r for r in results}


def test_coverage_days_never_exceed_the_week(db):
    engine, _ = db
    with engine.connect() as conn:
        cov = weekly_events.checkpoint_coverage(conn, WEEK)
    assert cov.set_index("cp").loc["CP-1-F06", "days"] == 7


def test_floor_heat_is_the_highest_place_not_a_sum(db):
    heat = _panels(db, "riskwatch-overview")["楼栋楼层风险热力"]
    row = next(r for r in heat.rows if r[0] == "9层")
    one_place = 10 * 1.5 * 0.5 ** (14 / 72)                 # 14 h of a 3-day half-life to the week's end
    assert float(row[1]) == pytest.approx(one_place, abs=0.6)   # the three places' sum (39) would colour it 一般


def test_on_time_rate_counts_the_overdue_hazard(db):
    res = _panels(db, "riskwatch-hazards")
    assert res["逾期未整改"].rows[0][0] == 1
    assert float(res["按期整改率"].rows[0][0]) == pytest.approx(50.0)


def test_dispute_total_is_the_ledgers_row_count(db):
    res = _panels(db, "riskwatch-disputes")
    ledger = res["纠纷案件台账"].rows
    assert len(ledger) == 2
    assert res["纠纷总数"].rows[0][0] == len(ledger)
    statuses = [r for t, r in res.items() if t in ("已报告", "调解中", "已升级", "已化解")]
    assert sum(r.rows[0][0] for r in statuses) == len(ledger)


REFS = ["person:P-0101", "business:B-0003", "building:2", "checkpoint:CP-1-F06", "checkpoint:CP-9-X",
        "location:HD-2-09-corridor", "location:HD-2-1203", "location:HD-1-01-S03", "location:HD-1-01-exit-east",
        "location:HD-1-01-lobby", "location:HD-2-B1-pump", "location:HD-2-B1-exit", "location:HD-1-01-corridor",
        "location:HD-1-28-roof", "location:HD-1-06-firedoor", "location:HD-2-01-door-main", "location:odd-place"]


def test_dashboard_entity_names_are_the_labels(db):
    engine, cfg = db
    values = ", ".join(f"('{r}')" for r in REFS)
    with engine.connect() as conn:
        got = conn.execute(sa.text(f"SELECT {entity_label('r', cfg)} FROM (VALUES {values}) AS t(r)")).scalars().all()
    assert got == [labels.entity_label(r, cfg.area) for r in REFS]
