"""Checks of a weekly export against the database, shared by the SQLite and PostgreSQL tests.

The expected row counts come from SQL written here, independently of pipeline/exports."""

from __future__ import annotations

import subprocess
from datetime import UTC
from pathlib import Path

import openpyxl
import sqlalchemy as sa

from pipeline.area import load_area
from pipeline.configset import load_config
from pipeline.exports.period import iso_week, previous_week
from pipeline.labels import entity_label
from pipeline.storage.views import entity_scores_at

CASE_HEADERS = ["案件编号", "对象", "类型", "状态", "楼栋", "地点", "包保领导", "立案时间", "整改期限", "逾期天数",
                "风险分值", "等级", "最近处置时间", "最近处置情况"]
HEADERS = {
    "概览": ["指标", "本周", "上周", "变化"],
    "逾期未办结": CASE_HEADERS,
    "在办案件（按楼栋）": CASE_HEADERS,
    "在办案件（按包保领导）": ["包保领导"] + [h for h in CASE_HEADERS if h != "包保领导"],
    "本周新增及办结": ["变动", "案件编号", "对象", "类型", "楼栋", "地点", "包保领导", "时间", "状态或办结原因"],
    "研判意见落实": ["编号", "会议周次", "案件编号", "研判意见", "责任人", "时限", "落实状态", "落实时间", "落实情况"],
    "处置记录": ["时间", "案件编号", "事项", "人员", "内容"],
    "重点风险对象": ["排名", "对象", "对象类型", "楼栋", "风险分值", "等级", "上周分值", "分值变化", "主要原因", "依据事件数"],
    "新增预警及响应": ["预警编号", "对象", "等级", "包保领导", "涉及规则", "风险分值", "预警时间", "当前状态", "首次确认时间",
                      "响应时长（小时）", "升级次数"],
    "隐患整改": ["隐患编号", "类别", "位置", "楼栋", "发现时间", "整改期限", "整改时间", "验收时间", "状态", "是否按期"],
    "矛盾纠纷": ["案件编号", "登记时间", "纠纷类型", "位置", "当事人", "最新进展", "最新进展时间", "调解次数", "状态"],
    "巡查覆盖": ["楼栋", "检查点", "名称", "打卡次数", "覆盖天数", "最长间隔（小时）", "最后打卡时间"],
    "规则命中统计": ["规则名称", "类别", "本周命中", "上周命中", "变化", "涉及对象数", "本周计分合计"],
}
OVERVIEW_ROWS = 15
WEEK = "2024-W45"      # the simulation starts on Monday 2024-11-04 (Asia/Shanghai)


def _jtext(dialect: str, path: str) -> str:
    parts = path.split(".")
    if dialect == "postgresql":
        return "doc" + "".join(f"->'{p}'" for p in parts[:-1]) + f"->>'{parts[-1]}'"
    return f"json_extract(doc, '$.{path}')"


def expected(engine, week: str) -> dict:
    """Row counts and figures from SQL of our own."""
    cfg = load_config()
    cur = iso_week(week, cfg.area.tz)
    prev = previous_week(cur)
    d = engine.dialect.name
    p = {"s": cur.start, "e": cur.end, "ps": prev.start}
    if d == "sqlite":   # stored as naive UTC text
        p = {k: v.astimezone(UTC).replace(tzinfo=None) for k, v in p.items()}
    case, hz, cp = _jtext(d, "attributes.case_id"), _jtext(d, "attributes.hazard_id"), _jtext(d, "location.checkpoint")
    q = lambda sql: conn.execute(sa.text(sql), p).scalar_one()  # noqa: E731
    with engine.connect() as conn:
        out = {
            "events": q("SELECT count(*) FROM events WHERE occurred_at >= :s AND occurred_at < :e"),
            "alerts": q("SELECT count(*) FROM alerts WHERE raised_at >= :s AND raised_at < :e"),
            "disputes": q(f"SELECT count(DISTINCT {case}) FROM events WHERE kind = 'dispute' "
                          "AND occurred_at >= :s AND occurred_at < :e"),
            "checkpoint_visits": q("SELECT count(*) FROM events WHERE kind = 'patrol' AND type = 'checkpoint_visit' "
                                   "AND occurred_at >= :s AND occurred_at < :e"),
        }
        found_now = {r[0] for r in conn.execute(sa.text(
            f"SELECT DISTINCT {hz} FROM events WHERE kind = 'hazard' AND type = 'found' "
            "AND occurred_at >= :s AND occurred_at < :e"), p)}
        # open at the week's start: the latest hazard event before the start is found or reopened
        latest = conn.execute(sa.text(
            f"SELECT {hz} AS h, type, occurred_at FROM events WHERE kind = 'hazard' AND occurred_at < :s "
            "ORDER BY occurred_at, event_id"), p).all()
        state = {}
        for h, type_, _ in latest:
            state[h] = type_
        backlog = {h for h, t in state.items() if t in ("found", "reopened")}
        out["hazards"] = len(found_now | backlog)
        seen = {r[0] for r in conn.execute(sa.text(
            f"SELECT DISTINCT {cp} FROM events WHERE kind = 'patrol' AND type = 'checkpoint_visit' "
            "AND occurred_at >= :s AND occurred_at < :e"), p)}
        out["checkpoints"] = len({c.id for c in cfg.area.checkpoints} | (seen - {None}))
        rules = {r[0] for r in conn.execute(sa.text(
            "SELECT DISTINCT rule FROM contributions WHERE fired_at >= :ps AND fired_at < :e"), p)}
        out["rules"] = len({r.id for r in cfg.rules.rules} | rules)
    # cases: from pipeline/cases (the meeting brief's derivation), not from the export
    from pipeline.cases.derive import derive_cases

    with engine.connect() as conn:
        cases = derive_cases(conn, cfg.assignments, cur.end)
    live = [c for c in cases.values() if c.is_open]
    out["open_cases"] = len(live)
    out["overdue_cases"] = sum(c.days_overdue(cur.end) > 0 for c in live)
    with engine.connect() as conn:
        out["records"] = q("SELECT count(*) FROM alert_history WHERE at >= :s AND at < :e "
                           "AND action IN ('acknowledged', 'resolved', 'closed')") + q(
            "SELECT count(*) FROM case_actions WHERE at >= :s AND at < :e")
        out["decisions"] = q("SELECT count(*) FROM decisions")
    out["case_changes"] = sum(c.opened_at >= cur.start for c in cases.values()) + sum(
        not c.is_open and c.closed_at is not None and c.closed_at >= cur.start for c in cases.values())
    scores = entity_scores_at(engine, cur.end)
    key = sorted((s for s in scores.values() if s.level != "low"), key=lambda s: (-s.score, s.entity))
    out["key_entities"] = len(key)
    out["top_entity"] = key[0].entity if key else None
    return out


def check_workbook(path: Path, exp: dict) -> openpyxl.Workbook:
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(HEADERS)
    rows = {"概览": OVERVIEW_ROWS, "逾期未办结": exp["overdue_cases"], "在办案件（按楼栋）": exp["open_cases"],
            "在办案件（按包保领导）": exp["open_cases"], "本周新增及办结": exp["case_changes"],
            "研判意见落实": exp.get("decisions", 0), "处置记录": exp.get("records", 0),
            "重点风险对象": exp["key_entities"], "新增预警及响应": exp["alerts"],
            "隐患整改": exp["hazards"], "矛盾纠纷": exp["disputes"], "巡查覆盖": exp["checkpoints"],
            "规则命中统计": exp["rules"]}
    for name, headers in HEADERS.items():
        ws = wb[name]
        got = [c.value for c in ws[2]][: len(headers)]
        assert got == headers, name
        assert ws.freeze_panes == "A3", name
        assert ws.max_row - 2 == rows[name], f"{name}: {ws.max_row - 2} rows, SQL says {rows[name]}"
        assert ws["A1"].value.startswith("虹都中心风险研判周报")
    overview = {r[0].value: r[1].value for r in wb["概览"].iter_rows(min_row=3)}
    assert overview["事件总数"] == exp["events"]
    assert overview["新增预警"] == exp["alerts"]
    assert sum(r[3].value for r in wb["巡查覆盖"].iter_rows(min_row=3)) == exp["checkpoint_visits"]
    key = wb["重点风险对象"]
    if exp["key_entities"]:
        assert key["B3"].value == entity_label(exp["top_entity"], load_area()) and key["E3"].number_format == "0.00"
        assert any(str(r.sqref) == f"F3:F{key.max_row}" for r in key.conditional_formatting), "level colours"
    return wb


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def check_pdf(path: Path, exp: dict) -> str:
    text = pdf_text(path)
    for heading in ("虹都中心风险研判周报", "一、本周概况", "二、逾期未办结", "三、包保领导在办案件", "四、本周新增及办结",
                    "五、研判意见落实情况", "六、处置记录", "七、风险等级分布", "八、本周与上周趋势对比",
                    "九、重点风险对象及成因"):
        assert heading in text, heading
    flat = "".join(text.split())
    assert f"本周共接收事件{exp['events']}条" in flat
    assert f"新增预警{exp['alerts']}起" in flat
    assert f"截至周日24时在办案件{exp['open_cases']}件" in flat
    assert f"其中逾期未办结{exp['overdue_cases']}件" in flat
    assert f"重点风险对象（一般及以上）{exp['key_entities']}个" in flat
    if exp["top_entity"]:
        assert "".join(entity_label(exp["top_entity"], load_area()).split()) in flat
    return text
