"""Assemble the weekly risk review (the seven sheets and the brief's figures) from the database.

`build_review(bind, cfg, week)` returns a WeeklyReview: pandas frames with Chinese headers, in sheet
order, plus the figures, level distribution, daily trend and top entities the PDF brief shows.
Persons appear by pseudonymous id; `with_names(review, found)` adds the names an audited reveal
returned (pipeline/persons/registry.py) — this module never reads the registry itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pandas as pd
import sqlalchemy as sa

from pipeline.exports import weekly_alerts, weekly_events, weekly_scores
from pipeline.exports.casework import Casework, build_casework
from pipeline.exports.period import Period, iso_week, previous_week
from pipeline.exports.sqlhelp import to_local
from pipeline.labels import ALARM_TYPES, LEVEL_ORDER, entity_label, tag_label
from pipeline.labels import ALERT_STATES as ALERT_STATUS_ZH
from pipeline.labels import CATEGORIES as CATEGORY_ZH
from pipeline.labels import DISPUTE_STATES as DISPUTE_STATE_ZH
from pipeline.labels import DISPUTE_STEPS as DISPUTE_STEP_ZH
from pipeline.labels import ENTITY_KINDS as ENTITY_TYPE_ZH
from pipeline.labels import HAZARD_CATEGORIES as HAZARD_CATEGORY_ZH
from pipeline.labels import LEVELS as LEVELS_ZH

SHEETS = ("概览", "逾期未办结", "在办案件（按楼栋）", "在办案件（按包保领导）", "本周新增及办结", "研判意见落实", "处置记录",
          "重点风险对象", "新增预警及响应", "隐患整改", "矛盾纠纷", "巡查覆盖", "规则命中统计")
KEY_ENTITY_COLUMNS = ["排名", "对象", "对象类型", "楼栋", "风险分值", "等级", "上周分值", "分值变化", "主要原因", "依据事件数"]
REVEAL_COLUMNS = ["姓名", "联系电话"]


@dataclass
class Sheet:
    name: str
    frame: pd.DataFrame
    formats: dict[str, str] = field(default_factory=dict)     # column -> Excel number format
    level_column: str | None = None                            # coloured by level


@dataclass
class WeeklyReview:
    period: Period
    previous: Period
    area: str
    generated_at: datetime
    sheets: list[Sheet]
    figures: dict[str, tuple[float, float]]                    # overview: metric -> (this week, last week)
    levels: dict[str, tuple[int, int]]                         # level -> (entities this week, last week)
    daily: pd.DataFrame                                        # day 0..13, signals, alerts
    top: list[dict]                                            # key entities with reasons, best first
    person_ids: list[str]                                      # every person id shown
    thresholds: list[tuple[str, float]] = field(default_factory=list)
    revealed: bool = False
    casework: Casework | None = None                           # the meeting brief's cases (casework.py)

    def sheet(self, name: str) -> Sheet:
        return next(s for s in self.sheets if s.name == name)


def build_review(bind: sa.Engine, cfg, week: str, progress: Callable[[str], None] | None = None) -> WeeklyReview:
    tz = cfg.area.tz
    cur = iso_week(week, tz)
    prev = previous_week(cur)
    step = progress or (lambda _name: None)
    with bind.connect() as conn:
        step("案件")
        casework = build_casework(conn, cfg, week)
        step("事件统计")
        counts = weekly_events.kind_type_counts(conn, cur, prev)
        patrol = weekly_events.patrol_totals(conn, cur, prev)
        step("风险分值")
        now_scores, last_scores = weekly_scores.scores(conn, cur.end), weekly_scores.scores(conn, prev.end)
        key = now_scores[now_scores["level"] != "low"].sort_values(["score", "entity"], ascending=[False, True])
        info = weekly_scores.entity_info(conn, key["entity"].tolist())
        why = weekly_scores.explanations(conn, key["entity"].tolist(), cur.end)
        hits = weekly_scores.rule_hits(conn, cur, prev)
        daily = weekly_scores.daily(conn, cur, prev)
        step("预警")
        alerts = weekly_alerts.new_alerts(conn, cur)
        alerts_prev = weekly_alerts.count_raised(conn, prev)
        step("隐患与纠纷")
        hazards = weekly_events.hazards(conn, cur)
        disputes = weekly_events.disputes(conn, cur)
        step("巡查覆盖")
        coverage = weekly_events.checkpoint_coverage(conn, cur)
    rules = {r.id: r for r in cfg.rules.rules}
    leaders = cfg.assignments.leaders
    key_sheet, top = _key_entities(key, last_scores, info, why, rules, cfg.area)
    alert_sheet = _alerts(alerts, leaders, tz, cfg.area, rules)
    hazard_sheet = _hazards(hazards, cur, tz)
    dispute_sheet = _disputes(disputes, tz)
    figures = _figures(counts, patrol, now_scores, last_scores, len(alerts), alerts_prev, hits, hazards, disputes,
                       cur, prev)
    levels = {lv: (int((now_scores["level"] == lv).sum()), int((last_scores["level"] == lv).sum()))
              for lv in LEVEL_ORDER if lv != "low"}
    persons = sorted({e.split(":", 1)[1] for e in key["entity"] if e.startswith("person:")}
                     | {p for ps in disputes["parties"] for p in ps if p})
    sheets = [
        Sheet("概览", _overview(figures), {"本周": "#,##0", "上周": "#,##0", "变化": "+#,##0;-#,##0;0"}),
        *_case_sheets(casework),
        key_sheet,
        alert_sheet,
        hazard_sheet,
        dispute_sheet,
        _coverage(coverage, cfg.area, tz),
        _rule_stats(hits, rules),
    ]
    return WeeklyReview(cur, prev, cfg.area.name, datetime.now(UTC), sheets, figures, levels, daily, top, persons,
                        list(cfg.rules.levels), casework=casework)


def _case_sheets(cw: Casework) -> list[Sheet]:
    """Every open case whenever opened (overdue ones apart, by 楼栋, by 包保领导), the week's new and
    closed cases, the decisions with their 落实情况, and what people recorded."""
    when = "yyyy-mm-dd hh:mm"
    case_fmt = {"立案时间": when, "整改期限": when, "最近处置时间": when, "风险分值": "0.00"}
    by_building = cw.open_cases.sort_values(["楼栋", "逾期天数", "案件编号"], ascending=[True, False, True],
                                            kind="stable")
    by_leader = cw.open_cases.sort_values(["包保领导", "逾期天数", "案件编号"], ascending=[True, False, True],
                                          kind="stable")
    return [
        Sheet("逾期未办结", cw.overdue, case_fmt, "等级"),
        Sheet("在办案件（按楼栋）", by_building, case_fmt, "等级"),
        Sheet("在办案件（按包保领导）", by_leader[["包保领导", *[c for c in by_leader.columns if c != "包保领导"]]],
              case_fmt, "等级"),
        Sheet("本周新增及办结", cw.changes, {"时间": when}),
        Sheet("研判意见落实", cw.decisions, {"落实时间": when}),
        Sheet("处置记录", cw.records, {"时间": when}),
    ]


def _n(counts: pd.DataFrame, week: str, kind: str | None = None, types=None, exclude=None) -> int:
    sel = counts["week"] == week
    if kind is not None:
        sel &= counts["kind"] == kind
    if types is not None:
        sel &= counts["type"].isin(types)
    if exclude is not None:
        sel &= ~counts["type"].isin(exclude)
    return int(counts.loc[sel, "n"].sum())


def _figures(counts, patrol, now_scores, last_scores, alerts_cur, alerts_prev, hits, hazards, disputes, cur, prev
             ) -> dict[str, tuple[float, float]]:
    def both(fn):
        return fn("cur"), fn("prev")

    high = {"high", "critical"}
    return {
        "事件总数": both(lambda w: _n(counts, w)),
        "风险信号（规则命中）": both(lambda w: int(hits.loc[hits["week"] == w, "hits"].sum()) if len(hits) else 0),
        "新增预警": (alerts_cur, alerts_prev),
        "重点风险对象（一般及以上）": (int((now_scores["level"] != "low").sum()), int((last_scores["level"] != "low").sum())),
        "较大及以上风险对象": (int(now_scores["level"].isin(high).sum()), int(last_scores["level"].isin(high).sum())),
        "发现隐患": both(lambda w: _n(counts, w, "hazard", ["found"])),
        "完成整改": both(lambda w: _n(counts, w, "hazard", ["rectified"])),
        "新增矛盾纠纷": both(lambda w: _n(counts, w, "dispute", ["reported"])),
        "化解矛盾纠纷": both(lambda w: _n(counts, w, "dispute", ["resolved"])),
        "巡查次数": (patrol["cur"]["patrols"], patrol["prev"]["patrols"]),
        "出动巡查人次": (patrol["cur"]["personnel"], patrol["prev"]["personnel"]),
        "检查点打卡": both(lambda w: _n(counts, w, "patrol", ["checkpoint_visit"])),
        # alarms only: crowd counts and device health are not 监测报警; offline devices are counted apart
        "监测报警": both(lambda w: _n(counts, w, "monitoring", list(ALARM_TYPES))),
        "设备离线": both(lambda w: _n(counts, w, "monitoring", ["device_offline"])),
        "信访件": both(lambda w: _n(counts, w, "petition", ["received"])),
    }


def _overview(figures) -> pd.DataFrame:
    rows = [(name, cur, prev, cur - prev) for name, (cur, prev) in figures.items()]
    return pd.DataFrame(rows, columns=["指标", "本周", "上周", "变化"])


def _reasons(why: pd.DataFrame, rules) -> dict[str, list[dict]]:
    """Per entity, its rules by current worth (largest first): title, times fired, worth."""
    if why.empty:
        return {}
    g = (why.groupby(["entity", "rule"], sort=False)
         .agg(worth=("worth", "sum"), n=("worth", "size"), last=("fired_at", "max")).reset_index()
         .sort_values(["entity", "worth", "last"], ascending=[True, False, False]))
    out: dict[str, list[dict]] = {}
    for entity, rid, worth, n in g[["entity", "rule", "worth", "n"]].itertuples(index=False):
        out.setdefault(entity, []).append({"rule": rid, "title": rules[rid].title if rid in rules else rid,
                                           "times": int(n), "worth": round(float(worth), 2)})
    return out


def _key_entities(key, last_scores, info, why, rules, area) -> tuple[Sheet, list[dict]]:
    last = dict(zip(last_scores["entity"], last_scores["score"], strict=True))
    types = dict(zip(info["ref"], info["type"], strict=True)) if len(info) else {}
    buildings = dict(zip(info["ref"], info["building"], strict=True)) if len(info) else {}
    reasons = _reasons(why, rules)
    evidence = why.groupby("entity")["n_events"].sum().to_dict() if len(why) else {}
    rows, top = [], []
    for rank, (entity, score, level) in enumerate(key[["entity", "score", "level"]].itertuples(index=False), 1):
        items = reasons.get(entity, [])
        text = "；".join(f"{i['title']}×{i['times']}（{i['worth']:.1f}分）" for i in items[:3])
        before = float(last.get(entity, 0.0))
        etype = types.get(entity) or entity.split(":", 1)[0]
        rows.append([rank, entity_label(entity, area), ENTITY_TYPE_ZH.get(etype, etype), _building(buildings.get(entity)),
                     float(score),
                     LEVELS_ZH.get(level, level), before, round(float(score) - before, 2), text,
                     int(evidence.get(entity, 0))])
        top.append({"entity": entity, "score": float(score), "level": level, "previous": before, "reasons": items})
    df = pd.DataFrame(rows, columns=KEY_ENTITY_COLUMNS)
    fmt = {"风险分值": "0.00", "上周分值": "0.00", "分值变化": "+0.00;-0.00;0.00"}
    return Sheet("重点风险对象", df, fmt, "等级"), top


def _building(b) -> str:
    return f"{b}号楼" if b not in (None, "") and not (isinstance(b, float) and pd.isna(b)) else ""


def _alerts(alerts: pd.DataFrame, leaders, tz, area, rules) -> Sheet:
    cols = ["预警编号", "对象", "等级", "包保领导", "涉及规则", "风险分值", "预警时间", "当前状态", "首次确认时间",
            "响应时长（小时）", "升级次数"]
    if alerts.empty:
        return Sheet("新增预警及响应", pd.DataFrame(columns=cols), level_column="等级")
    raised = to_local(alerts["raised_at"], tz)
    acked = to_local(alerts["acknowledged_at"], tz)
    hours = (acked - raised).dt.total_seconds() / 3600.0
    df = pd.DataFrame({
        "预警编号": alerts["alert_id"],
        "对象": alerts["entity"].map(lambda e: entity_label(e, area)),
        "等级": alerts["level"].map(lambda x: LEVELS_ZH.get(x, x)),
        "包保领导": alerts["assignee"].map(lambda a: f"{a} {leaders[a].name}" if a in leaders else (a or "")),
        "涉及规则": alerts["rules"].map(lambda rs: "、".join(rules[r].title if r in rules else r for r in rs or [])),
        "风险分值": alerts["score"].astype(float).round(2),
        "预警时间": raised,
        "当前状态": alerts["status"].map(lambda s: ALERT_STATUS_ZH.get(s, s)),
        "首次确认时间": acked,
        "响应时长（小时）": hours.round(1),
        "升级次数": alerts["escalations"].astype(int),
    })
    fmt = {"风险分值": "0.00", "预警时间": "yyyy-mm-dd hh:mm", "首次确认时间": "yyyy-mm-dd hh:mm", "响应时长（小时）": "0.0"}
    return Sheet("新增预警及响应", df, fmt, "等级")


def _hazards(h: pd.DataFrame, cur: Period, tz) -> Sheet:
    def state(r) -> tuple[str, str]:
        if pd.notna(r["verified"]):
            status = "已验收"
        elif pd.notna(r["rectified"]):
            status = "已整改待验收"
        elif pd.notna(r["due"]) and r["due"] < cur.end:
            status = "逾期未整改"
        else:
            status = "整改中"
        if pd.notna(r["rectified"]) and pd.notna(r["due"]):
            on_time = "是" if r["rectified"] <= r["due"] else "否"
        else:
            on_time = "否" if status == "逾期未整改" else ""
        return status, on_time

    states = [state(r) for _, r in h.iterrows()]
    df = pd.DataFrame({
        "隐患编号": h["id"],
        "类别": h["category"].map(lambda c: HAZARD_CATEGORY_ZH.get(c, c or "")),
        "位置": h["location"].fillna(""),
        "楼栋": h["building"].map(_building),
        "发现时间": to_local(h["found"], tz) if len(h) else [],
        "整改期限": to_local(h["due"], tz) if len(h) else [],
        "整改时间": to_local(h["rectified"], tz) if len(h) else [],
        "验收时间": to_local(h["verified"], tz) if len(h) else [],
        "状态": [s for s, _ in states],
        "是否按期": [o for _, o in states],
    })
    when = "yyyy-mm-dd hh:mm"
    return Sheet("隐患整改", df, {c: when for c in ("发现时间", "整改期限", "整改时间", "验收时间")})


def _disputes(d: pd.DataFrame, tz) -> Sheet:
    df = pd.DataFrame({
        "案件编号": d["id"],
        "登记时间": to_local(d["reported"], tz) if len(d) else [],
        "纠纷类型": d["tags"].map(lambda t: "、".join(tag_label(x) for x in t)),
        "位置": d["location"].fillna(""),
        "当事人": d["parties"].map(lambda ps: "、".join(ps)),
        "最新进展": d["last"].map(lambda s: DISPUTE_STEP_ZH.get(s, s)),
        "最新进展时间": to_local(d["last_at"], tz) if len(d) else [],
        "调解次数": d["mediations"].astype(int) if len(d) else [],
        "状态": d["last"].map(lambda s: DISPUTE_STATE_ZH.get(s, "处理中")),
    })
    return Sheet("矛盾纠纷", df, {"登记时间": "yyyy-mm-dd hh:mm", "最新进展时间": "yyyy-mm-dd hh:mm"})


def _coverage(cov: pd.DataFrame, area, tz) -> Sheet:
    known = {cp.id: cp for cp in area.checkpoints}
    seen = {r.cp: r for r in cov.itertuples(index=False)}
    rows = []
    for cp_id in list(known) + sorted(set(seen) - set(known)):
        cp, r = known.get(cp_id), seen.get(cp_id)
        last = (pd.Timestamp(r.last, unit="s", tz="UTC").round("s").tz_convert(tz).tz_localize(None)
                if r is not None else pd.NaT)
        rows.append([_building(cp.building if cp else None), cp_id, cp.name if cp else "", int(r.visits) if r else 0,
                     int(r.days) if r else 0, round(float(r.max_gap) / 3600.0, 1) if r else 7 * 24.0, last])
    df = pd.DataFrame(rows, columns=["楼栋", "检查点", "名称", "打卡次数", "覆盖天数", "最长间隔（小时）", "最后打卡时间"])
    return Sheet("巡查覆盖", df, {"最长间隔（小时）": "0.0", "最后打卡时间": "yyyy-mm-dd hh:mm"})


def _rule_stats(hits: pd.DataFrame, rules) -> Sheet:
    def get(rid, week, col):
        sel = hits[(hits["rule"] == rid) & (hits["week"] == week)] if len(hits) else hits
        return float(sel[col].iloc[0]) if len(sel) else 0

    ids = list(rules) + sorted(set(hits["rule"]) - set(rules) if len(hits) else set())
    rows = []
    for rid in ids:
        rule = rules.get(rid)
        cur, prev = int(get(rid, "cur", "hits")), int(get(rid, "prev", "hits"))
        category = CATEGORY_ZH.get(rule.category, rule.category) if rule else ""
        rows.append([rule.title if rule else f"（已不在规则集中：{rid}）", category, cur, prev, cur - prev,
                     int(get(rid, "cur", "entities")), round(get(rid, "cur", "points"), 2)])
    df = pd.DataFrame(rows, columns=["规则名称", "类别", "本周命中", "上周命中", "变化", "涉及对象数", "本周计分合计"])
    return Sheet("规则命中统计", df, {"变化": "+0;-0;0", "本周计分合计": "0.00"})


def _person_id(shown: str) -> str | None:
    """P-0101 from the key-entity sheet's "重点人员 P-0101"."""
    person = f"{ENTITY_TYPE_ZH['person']} "
    return shown.removeprefix(person) if shown.startswith(person) else None


def with_names(review: WeeklyReview, found: dict) -> WeeklyReview:
    """The review with the revealed persons' names beside their ids (key entities, dispute parties)."""
    sheets = []
    for s in review.sheets:
        df = s.frame.copy()
        if s.name == "重点风险对象":
            pid = df["对象"].map(_person_id)
            df["姓名"] = pid.map(lambda p: found[p].name if p in found else "")
            df["联系电话"] = pid.map(lambda p: found[p].phone if p in found else "")
        elif s.name == "矛盾纠纷":
            df["当事人"] = [ "、".join(f"{p}（{found[p].name}）" if p in found else p for p in ps.split("、") if p)
                          for ps in df["当事人"]]
        sheets.append(replace(s, frame=df))
    return replace(review, sheets=sheets, revealed=True)
