"""Every dashboard panel's SQL against the real PostgreSQL holding a simulated week (seed 7).

The SQL is taken from the built dashboard JSON and expanded exactly as Grafana would
(dashboards.macros: template variables, then $__timeFilter/$__timeFrom/$__timeTo/$__timeGroup...),
then executed: each panel must return the columns it declares, and rows where the simulation's
scenarios guarantee them (alerts, hazards, disputes, patrol gaps). Cross-checks tie the SQL to the
engine: the drill-down's score and contribution worths equal `riskwatch replay`'s at the same instant.
The alert workflow the replay does not produce (acknowledgement, escalation, a failed notification)
is added as rows the way the notifier records them, and the alert panels must report exactly those.

The session gets its own database (rw_dash_<uuid>), dropped afterwards; it holds the machine-wide
PostgreSQL lock shared, like the storage tests, so a server-restart test never runs under it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from dashboards import catalog
from dashboards.macros import TimeRange
from dashboards.queryrun import run_dashboard
from pipeline import labels
from pipeline.cli import app
from pipeline.configset import load_config
from pipeline.replay import output_records, read_lines, replay
from pipeline.simulate.scenarios import S4_CHECKPOINT, S5_PLACE
from pipeline.storage.db import make_engine
from pipeline.storage.replay_store import open_replay_store
from tests.integration import pgkit

pytestmark = pytest.mark.integration
ACK_AFTER = timedelta(minutes=30)


@pytest.fixture(scope="module")
def week(pg_url, tmp_path_factory):
    """A database with a simulated week replayed into it, plus the replay's own output."""
    cfg = load_config()
    with pgkit.scratch_database(pg_url, "dash") as url, pgkit.server_lock():
        engine = make_engine(url)
        try:
            events = tmp_path_factory.mktemp("dash") / "week.jsonl"
            result = CliRunner().invoke(app, ["simulate", "--days", "7", "--seed", "7", "--to", str(events)])
            assert result.exit_code == 0, result.output
            replayed = replay(read_lines(events), cfg, keep_events=True)
            open_replay_store(url, cfg)(replayed, source=events)
            records = list(output_records(replayed, cfg))
            facts = _add_alert_workflow(engine)
            yield engine, cfg, records, facts
        finally:
            engine.dispose()


def _add_alert_workflow(engine: sa.Engine) -> dict:
    """Acknowledge the earliest alert 30 minutes after it was raised, escalate the second to L05, and
    record a failed notification for the third — as pipeline.alerting / pipeline.notify store them."""
    with engine.begin() as conn:
        alerts = conn.execute(sa.text("SELECT alert_id, entity, level, assignee, raised_at FROM alerts "
                                      "ORDER BY raised_at, alert_id")).all()
        assert len(alerts) >= 3, "the simulation guarantees alerts"
        acked, escalated, failed = alerts[0], alerts[1], alerts[2]
        conn.execute(sa.text("UPDATE alerts SET status = 'acknowledged' WHERE alert_id = :a"), {"a": acked.alert_id})
        conn.execute(sa.text("INSERT INTO alert_history (alert_id, action, level, actor, at, detail) "
                             "VALUES (:a, 'acknowledged', :l, :actor, :at, NULL)"),
                     {"a": acked.alert_id, "l": acked.level, "actor": acked.assignee, "at": acked.raised_at + ACK_AFTER})
        conn.execute(sa.text("INSERT INTO alert_history (alert_id, action, level, actor, at, detail) "
                             "VALUES (:a, 'escalated', :l, 'notifier', :at, CAST(:d AS jsonb))"),
                     {"a": escalated.alert_id, "l": escalated.level, "at": escalated.raised_at + timedelta(hours=5),
                      "d": '{"to": "L05", "step": 1}'})
        conn.execute(sa.text(
            "INSERT INTO notifications (history_id, alert_id, kind, leader_id, channel, status, attempts, created_at, "
            "next_attempt_at, last_error) VALUES (1, :a, 'raised', :leader, 'wecom', 'failed', 5, :at, :at, :err)"),
            {"a": failed.alert_id, "leader": failed.assignee, "at": failed.raised_at + timedelta(minutes=1),
             "err": "HTTP 500 from robot"})
    return {"acked": acked, "escalated": escalated, "failed": failed}


def _week_range(records) -> TimeRange:
    now = datetime.fromisoformat(next(r for r in records if r["type"] == "summary")["now"].replace("Z", "+00:00"))
    return TimeRange(now - timedelta(days=7), now)


def _run(week, uid: str, **overrides):
    engine, cfg, records, _ = week
    dash = catalog.build_all(cfg)[uid]
    _, results = run_dashboard(engine, dash, _week_range(records), overrides or None)
    return {r.title: r for r in results}


def _has_data(rows) -> bool:
    return bool(rows) and any(v not in (None, 0) for v in rows[0])


def test_every_panel_returns_its_columns_and_data_where_guaranteed(week):
    engine, cfg, records, _ = week
    built = catalog.build_all(cfg)
    tr = _week_range(records)
    checked = 0
    for definition in catalog.definitions(cfg):
        dash = built[definition.uid]
        _, results = run_dashboard(engine, dash, tr)
        by_id = {r.panel_id: r for r in results}
        assert len(results) == len(definition.panels)
        for pid, spec in enumerate(definition.panels, start=1):
            res = by_id[pid]
            where = f"{definition.uid} panel {pid} {spec.title}"
            assert res.title == spec.title
            assert "$" not in res.sql.replace("$fn$", ""), f"{where}: unexpanded reference left"
            assert tuple(res.columns) == spec.columns, where
            if spec.nonempty:
                assert _has_data(res.rows), f"{where}: no data although the simulated week guarantees it"
            checked += 1
    assert checked == sum(len(d.panels) for d in catalog.definitions(cfg))


def test_drill_down_agrees_with_replay(week):
    engine, cfg, records, _ = week
    entities = [r for r in records if r["type"] == "entity"]
    top = entities[0]                                      # replay lists entities by score, highest first
    res = _run(week, "riskwatch-entity")
    assert res["当前风险分值"].rows[0][0] == math.floor(top["score"])        # shown rounded down, as everywhere
    worth = sorted(float(r[4]) for r in res["风险来源（规则贡献）"].rows)
    assert worth == pytest.approx(sorted(c["value"] for c in top["contributions"]), abs=0.051)
    titles = {r.id: r.title for r in cfg.rules.rules}
    rules = {r[1] for r in res["风险来源（规则贡献）"].rows}
    assert rules == {titles[c["rule"]] for c in top["contributions"]}
    # another entity chosen like a link from the overview would
    person = next(e for e in entities if e["entity"].startswith("person:"))
    res = _run(week, "riskwatch-entity", entity=person["entity"])
    assert res["当前风险分值"].rows[0][0] == math.floor(person["score"])
    assert res["对象信息"].rows[0][0] == labels.entity_label(person["entity"], cfg.area)
    assert all(r[4].startswith("sim-") for r in res["事件时间线"].rows)


def test_overview_counts_agree_with_replay_levels(week):
    _, _, records, _ = week
    levels = [e["level"] for e in records if e["type"] == "entity"]
    res = _run(week, "riskwatch-overview")
    assert res["重大风险对象"].rows[0][0] == levels.count("critical")
    assert res["较大风险对象"].rows[0][0] == levels.count("high")
    table = res["较大及以上风险对象"].rows
    assert [r[0] for r in table] == [e["entity"] for e in records
                                     if e["type"] == "entity" and e["level"] in ("high", "critical")]
    summary = next(r for r in records if r["type"] == "summary")
    assert res["新增预警"].rows[0][0] == summary["alerts"] == len({r["entity"] for r in records if r["type"] == "alert"})


def test_multi_value_filters_narrow_the_rows(week):
    table = "较大及以上风险对象"
    full = _run(week, "riskwatch-overview")[table].rows
    only_2 = _run(week, "riskwatch-overview", building=["2"])[table].rows
    assert only_2 and set(r[3] for r in only_2) == {"2号楼"}
    assert len(only_2) < len(full)
    critical = _run(week, "riskwatch-overview", level=["critical"])[table].rows
    assert critical and {r[6] for r in critical} == {"重大"}
    fire = _run(week, "riskwatch-overview", category=["fire"])[table].rows
    assert fire and all(r[4] == "消防安全" for r in fire)
    nothing = _run(week, "riskwatch-overview", building=["no-such-building"])
    assert nothing[table].rows == []


def test_scenarios_show_up_where_the_meeting_looks(week):
    hazards = _run(week, "riskwatch-hazards")
    found, rectified = hazards["发现隐患"].rows[0][0], hazards["已整改"].rows[0][0]
    ledger = hazards["隐患整改台账"].rows
    assert found == len({r[0] for r in ledger}) and rectified <= found
    place = labels.place_name(S5_PLACE, load_config().area)
    assert place in {r[2] for r in ledger if r[8] == "逾期未整改"}
    overview = _run(week, "riskwatch-overview")
    assert place in {r[2] for r in overview["逾期未整改隐患清单"].rows}
    patrol = _run(week, "riskwatch-patrol")
    checkpoint = next(cp.name for cp in load_config().area.checkpoints if cp.id == S4_CHECKPOINT)
    gaps = {r[0]: float(r[3]) for r in patrol["巡查空档（超过4小时）"].rows}
    assert gaps.get(checkpoint, 0) >= 14.0
    # the 14-hour gap keeps that checkpoint (and so the rate) from being up to standard
    coverage = {r[0]: r for r in patrol["各点位巡查情况"].rows}
    assert coverage[checkpoint][7] == "未达标"
    assert float(patrol["点位达标率"].rows[0][0]) < 100
    assert all(float(r[5]) <= 100 for r in coverage.values())
    disputes = _run(week, "riskwatch-disputes")
    statuses = {r[3] for r in disputes["纠纷案件台账"].rows}
    assert {"已化解", "已升级"} <= statuses
    assert all("P-" in r[2] for r in disputes["纠纷案件台账"].rows)     # parties by pseudonymous id


def test_alert_response_reports_the_recorded_workflow(week):
    engine, cfg, _, facts = week
    res = _run(week, "riskwatch-alerts")
    leaders = {k: v.name for k, v in cfg.assignments.leaders.items()}
    per_leader = {r[0]: r for r in res["包保领导确认用时"].rows}
    acked = facts["acked"]
    row = per_leader[leaders[acked.assignee]]
    assert row[2] >= 1 and float(row[4]) == pytest.approx(ACK_AFTER.total_seconds() / 60)
    assert float(res["平均确认用时"].rows[0][0]) == pytest.approx(ACK_AFTER.total_seconds() / 60)
    assert res["逐级上报"].rows[0][0] == 1
    esc = res["逐级上报记录"].rows
    assert [(r[1], r[5]) for r in esc] == [(facts["escalated"].entity, leaders["L05"])]
    failed = res["通知失败记录"].rows
    assert [(r[1], r[5], r[7]) for r in failed] == [(facts["failed"].entity, "企业微信", "HTTP 500 from robot")]
    assert res["通知失败"].rows[0][0] == 1
    assert res["待确认"].rows[0][0] == res["预警总数"].rows[0][0] - 1


def test_render_writes_a_png_per_dashboard(week, tmp_path):
    from dashboards.render import render_dashboard

    engine, cfg, records, _ = week
    tr = _week_range(records)
    for uid, dash in catalog.build_all(cfg).items():
        _, results = run_dashboard(engine, dash, tr)
        out = render_dashboard(dash, results, tmp_path / f"{uid}.png", cfg.area.timezone, dpi=40)
        data = out.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, uid


def test_grafanas_read_only_role_runs_every_panel_and_nothing_else(week):
    """Grafana logs in as riskwatch_grafana (migration 0007): every panel's SQL works, the persons
    registry, audit log, tokens and raw rejections stay closed, and nothing can be written."""
    engine, cfg, records, _ = week
    reader = sa.create_engine(engine.url.set(username="riskwatch_grafana", password="riskwatch_grafana"))
    try:
        built = catalog.build_all(cfg)
        for definition in catalog.definitions(cfg):
            _, results = run_dashboard(reader, built[definition.uid], _week_range(records))
            assert len(results) == len(definition.panels), definition.uid
        with reader.connect() as conn:
            for sql in ("SELECT * FROM person_registry", "SELECT * FROM audit_log", "SELECT * FROM api_tokens",
                        "SELECT * FROM web_sessions", "SELECT * FROM link_revocations", "SELECT * FROM rejections",
                        "DELETE FROM events",
                        "UPDATE alerts SET status = 'closed'"):
                with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                    conn.execute(sa.text(sql))
                conn.rollback()
    finally:
        reader.dispose()
