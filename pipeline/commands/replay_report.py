"""The human-readable replay report for the analyst: names instead of codes, the labels' words, rule
titles, whole-number scores and Beijing time."""

from __future__ import annotations

from datetime import datetime

from pipeline import labels
from pipeline.commands.tables import show, table
from pipeline.configset import ConfigSet


def _when(text: str, cfg: ConfigSet) -> str:
    return labels.time_text(datetime.fromisoformat(text.replace("Z", "+00:00")), cfg.area.tz, year=True)


def print_report(records: list[dict], cfg: ConfigSet, top: int = 20) -> None:
    from rich.console import Console

    titles = {r.id: r.title for r in cfg.rules.rules}
    leaders = cfg.assignments.leaders
    summary = records[-1]
    Console(soft_wrap=True).print(
        f"事件 {summary['events']} 条：受理 {summary['accepted']}，重复 {summary['duplicates']}，"
        f"拒收 {summary['rejected']}；风险对象 {summary['entities']} 个，预警 {summary['alerts']} 条；"
        f"数据时钟 {_when(summary['now'], cfg)}（北京时间）"
    )
    alerts = [r for r in records if r["type"] == "alert"]
    if alerts:
        show(table(("风险对象", "等级", "包保领导", "触发规则", "时间"), (
            (labels.entity_label(a["entity"], cfg.area), labels.level_label(a["level"]),
             leaders[a["assignee"]].name if a["assignee"] in leaders else a["assignee"],
             "、".join(titles.get(r, r) for r in a["rules"]), _when(a["at"], cfg)) for a in alerts),
            title="预警（新增及等级上调）"))
    entities = [r for r in records if r["type"] == "entity"][:top]
    if entities:
        def main(e: dict) -> str:
            c = max(e["contributions"], key=lambda c: c["value"])
            return f"{titles.get(c['rule'], c['rule'])}（{labels.score_text(c['value'])}）"

        show(table(("风险对象", labels.SCORE, "等级", "主要来源"), (
            (labels.entity_label(e["entity"], cfg.area), labels.score_text(e["score"]), labels.level_label(e["level"]),
             main(e)) for e in entities), title=f"风险对象（前 {len(entities)} 个）"))
    rejects = [r for r in records if r["type"] == "reject"]
    if rejects:
        show(table(("行号", "事件编号", "拒收原因"), (
            (r["line"], r["event_id"] or "—", labels.rejection_label(r["reason"])) for r in rejects[:5]),
            title=f"拒收 {len(rejects)} 条（前 5 条）"))
