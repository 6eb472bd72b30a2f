"""Why an entity has its score (`riskwatch explain`), in Chinese: every contribution still counting, its
rule, decay and evidence, the alert, and the history that has decayed ("曾于 11月6日 触发 6 次"), at a chosen
time (`--until`, the state on meeting day).

The contributions come from the database (the stored `contributions`, `alerts` and `events` tables: an
indexed read of one entity) or from replaying a JSON Lines file; both end in one `Explanation`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from rich.console import Group
from rich.table import Table
from rich.text import Text

from pipeline import labels
from pipeline.configset import ConfigSet
from pipeline.engine.scoring import NEGLIGIBLE
from pipeline.errors import NotFound

# The columns read here (pipeline/storage/models.py), as lightweight tables: importing the models would load
# the storage package and Alembic, most of this command's start-up time.
ENTITIES = sa.table("entities", sa.column("ref"), sa.column("id"), sa.column("building"))
CONTRIBUTIONS = sa.table("contributions", sa.column("entity"), sa.column("rule"), sa.column("points"),
                         sa.column("fired_at", sa.DateTime(timezone=True)), sa.column("events", sa.JSON),
                         sa.column("half_life_s"))
ALERTS = sa.table("alerts", sa.column("entity"), sa.column("level"), sa.column("assignee"),
                  sa.column("rules", sa.JSON), sa.column("raised_at", sa.DateTime(timezone=True)), sa.column("status"))
EVENTS = sa.table("events", sa.column("event_id"), sa.column("doc", sa.JSON),
                  sa.column("occurred_at", sa.DateTime(timezone=True)))

# A contribution worth less than this at the clock has decayed (it shows as 0): it is listed as history.
# The score itself sums what the engine sums (worth >= NEGLIGIBLE), so it equals the stored one.
COUNTING = 0.5


@dataclass(frozen=True)
class Part:
    rule: str
    fired_at: float        # epoch seconds
    points: float
    worth: float           # at the clock
    half_life_s: float
    events: tuple[str, ...]


@dataclass
class Explanation:
    entity: str
    now: float
    parts: list[Part]
    building: str | None = None
    alert: dict[str, Any] | None = None
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)   # event id -> event document


def resolve(candidates: list[str], name: str) -> str:
    """`person:P-0101` as given, or the one entity whose id is `P-0101`; NotFound naming what was asked."""
    if name in candidates:
        return name
    matches = sorted(ref for ref in candidates if ref.partition(":")[2] == name)
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise NotFound(f"“{name}”对应多个风险对象：{'、'.join(matches)}；请写全（如 {matches[0]}）")
    raise NotFound(f"没有找到风险对象“{name}”：数据中没有以它为编号的人员、经营主体、地点、楼栋或巡查点位")


def from_database(conn: sa.Connection, name: str, until: datetime | None) -> Explanation:
    entities, contributions, alerts, events = ENTITIES, CONTRIBUTIONS, ALERTS, EVENTS
    if ":" in name:
        refs = list(conn.execute(sa.select(entities.c.ref).where(entities.c.ref == name)).scalars())
    else:
        refs = list(conn.execute(sa.select(entities.c.ref).where(entities.c.id == name)).scalars())
    ref = resolve(refs, name)
    if until is None:
        latest = conn.execute(sa.select(sa.func.max(events.c.occurred_at))).scalar()
        until = _aware(latest) if latest is not None else datetime.now(UTC)
    now = until.timestamp()
    rows = conn.execute(sa.select(contributions).where(contributions.c.entity == ref, contributions.c.fired_at <= until)
                        .order_by(contributions.c.fired_at)).all()
    parts = [_part(r.rule, _aware(r.fired_at).timestamp(), r.points, r.half_life_s, tuple(r.events or ()), now)
             for r in rows]
    building = conn.execute(sa.select(entities.c.building).where(entities.c.ref == ref)).scalar()
    alert_row = conn.execute(sa.select(alerts).where(alerts.c.entity == ref, alerts.c.raised_at <= until)
                             .order_by(alerts.c.raised_at.desc()).limit(1)).first()
    alert = None
    if alert_row is not None:
        alert = {"level": alert_row.level, "assignee": alert_row.assignee, "rules": list(alert_row.rules or ()),
                 "raised_at": _aware(alert_row.raised_at).timestamp(), "status": alert_row.status}
    wanted = sorted({e for p in parts if p.worth >= COUNTING for e in p.events[:3]})
    evidence = {}
    if wanted:
        evidence = {r.event_id: r.doc for r in conn.execute(
            sa.select(events.c.event_id, events.c.doc).where(events.c.event_id.in_(wanted)))}
    return Explanation(ref, now, parts, building, alert, evidence)


def from_replay(name: str, result, cfg: ConfigSet) -> Explanation:
    ref = resolve(list(result.engine.entities), name)
    state = result.engine.entities[ref]
    now = result.now if result.now is not None else datetime.now(UTC).timestamp()
    parts = [_part(c[0], c[2], c[1], c[4], tuple(c[3]), now) for c in state["c"]]
    evidence = {e.event_id: e.doc for e in result.accepted_events or ()
                if any(e.event_id in p.events for p in parts)}
    alert = state.get("a")
    return Explanation(ref, now, parts, state.get("b"), alert, evidence)


def _part(rule: str, fired_at: float, points: float, half_life_s: float, events: tuple[str, ...], now: float) -> Part:
    return Part(rule, fired_at, points, points * 0.5 ** ((now - fired_at) / half_life_s), half_life_s, events)


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _at(epoch: float, cfg: ConfigSet) -> str:
    return labels.time_text(datetime.fromtimestamp(epoch, UTC), cfg.area.tz)


def render(ex: Explanation, cfg: ConfigSet) -> Group:
    rules = {r.id: r for r in cfg.rules.rules}
    title = {rid: rule.title for rid, rule in rules.items()}
    counting = [p for p in ex.parts if p.worth >= COUNTING]
    score = sum(p.worth for p in ex.parts if p.worth >= NEGLIGIBLE)
    level = cfg.rules.level_of(score)
    clock = labels.time_text(datetime.fromtimestamp(ex.now, UTC), cfg.area.tz, year=True)
    lines: list[Any] = [Text.assemble(
        (labels.entity_label(ex.entity, cfg.area), "bold"),
        f"  {labels.SCORE} {labels.score_text(score)}，等级 {labels.level_label(level, colour=True)}（截至 {clock}，北京时间）")]
    if ex.building:
        lines.append(Text(f"所在楼栋：{labels.building_label(ex.building)}；{labels.MULTIPLIER} "
                          f"×{cfg.area.multiplier(ex.entity, ex.building):g}"))
    if ex.alert:
        leader = cfg.assignments.leaders.get(ex.alert.get("assignee") or "")
        who = f"{leader.name}（{ex.alert['assignee']}）" if leader else (ex.alert.get("assignee") or "未指定")
        state = f"，{labels.label(labels.ALERT_STATES, ex.alert['status'])}" if ex.alert.get("status") else ""
        lines.append(Text(f"预警：{labels.level_label(ex.alert['level'])}{state}，包保领导 {who}，首次预警 "
                          f"{_at(ex.alert['raised_at'], cfg)}，涉及规则 "
                          + "、".join(title.get(r, r) for r in ex.alert.get("rules") or ())))
    if counting:
        table = Table(title=f"{labels.SCORE}构成（每条计分随时间按半衰期衰减）", title_justify="left")
        for col in ("规则", "触发时间", "计分", "当前分值", "半衰期", "依据事件"):
            table.add_column(col, overflow="fold")
        for p in sorted(counting, key=lambda p: -p.worth):
            evidence = "\n".join(_describe(e, ex.evidence.get(e), cfg) for e in p.events[:3])
            if len(p.events) > 3:
                evidence += f"\n等 {len(p.events)} 条"
            table.add_row(title.get(p.rule, p.rule), _at(p.fired_at, cfg), labels.score_text(p.points),
                          labels.score_text(p.worth), labels.duration_text(p.half_life_s), evidence)
        lines.append(table)
    else:
        lines.append(Text("目前没有仍在计分的原因。"))
    history = _decayed(ex, cfg, title)
    if history:
        lines.append(Text("已衰减的历史（不再计入分值）：\n" + "\n".join(f"  · {h}" for h in history)))
    lines.append(Text(
        "合计 = 各条当前分值之和；当前分值 = 计分 × 0.5^(经过时间 ÷ 半衰期)。等级阈值："
        + "，".join(f"{labels.level_label(n)} ≥ {t:g}" for n, t in cfg.rules.levels) + "。"))
    return Group(*lines)


def _decayed(ex: Explanation, cfg: ConfigSet, title: dict[str, str]) -> list[str]:
    by_rule: dict[str, list[Part]] = defaultdict(list)
    for p in ex.parts:
        if p.worth < COUNTING:
            by_rule[p.rule].append(p)
    out = []
    for rule, parts in sorted(by_rule.items(), key=lambda kv: kv[1][-1].fired_at, reverse=True):
        days = list(dict.fromkeys(labels.date_text(datetime.fromtimestamp(p.fired_at, UTC), cfg.area.tz, year=False)
                                  for p in sorted(parts, key=lambda p: p.fired_at)))
        when = days[0] if len(days) == 1 else f"{days[0]}—{days[-1]}"
        out.append(f"{title.get(rule, rule)}：曾于 {when} 触发 {len(parts)} 次")
    return out


def _describe(event_id: str, doc: dict[str, Any] | None, cfg: ConfigSet) -> str:
    if doc is None:
        return event_id
    place = (doc.get("location") or {}).get("id")
    text = labels.event_label(str(doc.get("kind")), str(doc.get("type")))
    try:
        text = f"{labels.time_text(datetime.fromisoformat(doc['occurred_at']), cfg.area.tz)} {text}"
    except (KeyError, TypeError, ValueError):
        pass
    if place:
        text += f"（{labels.place_name(place, cfg.area) or place}）"
    note = doc.get("text")
    if note:
        text += f"：{note[:60]}"
    return text
