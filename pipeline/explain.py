"""A readable, Chinese-labelled account of why an entity has its score (`riskwatch explain`)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from rich.console import Group
from rich.table import Table
from rich.text import Text

from pipeline.engine.scoring import explain, score_at
from pipeline.labels import level_label
from pipeline.timeutil import format_duration


def local(epoch: float, tz: ZoneInfo) -> str:
    return datetime.fromtimestamp(epoch, tz).strftime("%Y-%m-%d %H:%M")


def explain_entity(entity: str, result, cfg) -> Group:
    tz = ZoneInfo(cfg.area.timezone)
    now = result.now
    state = result.engine.entities.get(entity)
    parts = explain(state["c"], now) if state is not None and now is not None else []
    if not parts:
        return Group(Text(f"{entity}：截至当前时钟没有任何计分记录（分值 0，等级 低）。"))
    rules = {r.id: r for r in cfg.rules.rules}
    events = {e.event_id: e for e in result.accepted_events or ()}
    score = round(score_at(state["c"], now), 2)
    level = cfg.rules.level_of(score)
    head = Text.assemble(
        (f"{entity}", "bold"),
        f"  当前分值 {score:.2f}，等级 {level_label(level)}（时钟 {local(now, tz)}）",
    )
    lines = [head]
    if state.get("b"):
        lines.append(Text(f"所在楼栋：{state['b']} 号楼；风险系数 ×{cfg.area.multiplier(entity, state['b']):g}"))
    alert = state.get("a")
    if alert:
        lines.append(Text(
            f"预警：等级 {level_label(alert['level'])}，包保领导 {alert['assignee']}，"
            f"首次预警 {local(alert['raised_at'], tz)}，涉及规则 {'、'.join(alert['rules'])}"
        ))
    table = Table(title="分值构成（每条计分随时间按半衰期衰减）")
    for col in ("规则", "触发时间", "原始分值", "当前分值", "半衰期", "依据事件"):
        table.add_column(col)
    for p in parts:
        rule = rules.get(p.rule)
        title = f"{rule.title}（{p.rule}）" if rule else p.rule
        half_life = format_duration(rule.half_life) if rule else ""
        evidence = "\n".join(_describe(eid, events.get(eid), tz) for eid in p.events)
        table.add_row(title, local(p.at, tz), f"{p.points:.2f}", f"{p.value:.2f}", half_life, evidence)
    lines.append(table)
    lines.append(Text(
        f"合计 {score:.2f} = 各条当前分值之和；当前分值 = 原始分值 × 0.5^(经过时间 ÷ 半衰期)。"
        "等级阈值：" + "，".join(f"{level_label(n)} ≥ {t:g}" for n, t in cfg.rules.levels) + "。"
    ))
    return Group(*lines)


def _describe(event_id: str, event, tz: ZoneInfo) -> str:
    if event is None:
        return event_id
    doc = event.doc
    place = (doc.get("location") or {}).get("id", "")
    note = doc.get("text", "")
    text = f"{event_id} {local(event.t, tz)} {event.kind}.{event.type}"
    if place:
        text += f" @{place}"
    if note:
        text += f"：{note[:60]}"
    return text
