"""CLI tables for people: Chinese words from pipeline/labels.py, Beijing time, names instead of codes, and
no cell cut short when the output is not a terminal (Rich assumes 80 columns there)."""

from __future__ import annotations

from datetime import UTC, datetime

from typer.testing import CliRunner

from pipeline import audit
from pipeline.cli import app
from tests.pipeline.notify.alertkit import raise_alert


def test_alerts_list_and_show_speak_chinese(engine):
    url = str(engine.url)
    raise_alert(engine, "a1", "location:HD-1-1203", "L01", datetime(2024, 11, 4, 20, 5, tzinfo=UTC))
    raise_alert(engine, "a2", "person:P-0101", "L04", datetime(2024, 11, 5, 1, 30, tzinfo=UTC), level="critical",
                points=95.0, rule="threat-of-violence", building=None)
    out = CliRunner().invoke(app, ["alerts", "list", "--db", url], env={"COLUMNS": "80"})
    assert out.exit_code == 0, out.output
    text = out.stdout
    for word in ("1号楼12层1203室", "重点人员 P-0101", "较大", "重大", "待确认", "2024年11月5日 04:05",
                 "1号楼包保领导", "矛盾纠纷调解专班负责人", "95", "风险分值"):
        assert word in text, word
    for code in ("location:", "person:", "open", "critical", "…"):
        assert code not in text, code
    shown = CliRunner().invoke(app, ["alerts", "show", "a2", "--db", url]).stdout
    assert "扬言" in shown or "威胁" in shown or "threat-of-violence" not in shown
    assert "产生预警" in shown and "重大（红）" in shown and "raised" not in shown


def test_audit_list_speaks_chinese(engine):
    audit.record(engine, "cli:analyst", "export", {"week": "2024-W45"}, at=datetime(2024, 11, 11, 1, 0, tzinfo=UTC))
    out = CliRunner().invoke(app, ["audit", "list", "--db", str(engine.url)])
    assert out.exit_code == 0, out.output
    assert "导出报表" in out.stdout and "2024年11月11日 09:00" in out.stdout
    assert "export " not in out.stdout


def test_replay_report_speaks_chinese(tmp_path):
    events = tmp_path / "days.jsonl"
    assert CliRunner().invoke(app, ["simulate", "--days", "3", "--seed", "7", "--to", str(events)]).exit_code == 0
    with events.open("a", encoding="utf-8") as f:
        f.write('{"event_id": "bad-1", "kind": "monitoring"}\n')
    out = CliRunner().invoke(app, ["replay", str(events)])
    assert out.exit_code == 0, out.output
    for word in ("风险对象", "风险分值", "数据时钟", "北京时间", "缺少字段"):
        assert word in out.stdout, word
    for code in ("location:", "person:", "building:", "missing_field", "smoke-alarm", "Z）"):
        assert code not in out.stdout, code
