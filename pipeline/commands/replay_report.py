"""The human-readable replay report: Chinese labels for the analyst at the meeting."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from pipeline.labels import level_label as level_zh


def print_report(records: list[dict], top: int = 20) -> None:
    console = Console()
    summary = records[-1]
    console.print(
        f"事件 {summary['events']} 条：受理 {summary['accepted']}，重复 {summary['duplicates']}，"
        f"拒收 {summary['rejected']}；风险对象 {summary['entities']} 个，预警 {summary['alerts']} 条；"
        f"时钟 {summary['now']}"
    )
    alerts = [r for r in records if r["type"] == "alert"]
    if alerts:
        table = Table(title="预警（新增及升级）")
        for col in ("对象", "等级", "包保领导", "规则", "时间"):
            table.add_column(col)
        for a in alerts:
            table.add_row(a["entity"], level_zh(a["level"]), a["assignee"], "、".join(a["rules"]), a["at"])
        console.print(table)
    entities = [r for r in records if r["type"] == "entity"][:top]
    if entities:
        table = Table(title=f"风险对象（前 {len(entities)} 个）")
        for col in ("对象", "分值", "等级", "主要来源"):
            table.add_column(col)
        for e in entities:
            main = max(e["contributions"], key=lambda c: c["value"])
            table.add_row(e["entity"], f"{e['score']:.2f}", level_zh(e["level"]), f"{main['rule']} ({main['value']:.2f})")
        console.print(table)
    rejects = [r for r in records if r["type"] == "reject"]
    if rejects:
        console.print(f"拒收 {len(rejects)} 条，前 5 条：")
        for r in rejects[:5]:
            console.print(f"  第 {r['line']} 行 {r['event_id'] or '-'}：{r['reason']}")
