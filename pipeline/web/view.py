"""What the alert page shows, in Chinese, read from the database: the entity (pseudonymous
reference, building, floor), level and score, the score over time (an inline SVG drawn here from the
contributions: the same arithmetic as docs/contract.md §4 and the database's views), the reasons
(pipeline.alerting.reasons: ranked by their worth when the alert last rose, so reasons that decayed
since stay on the page) with their evidence events and notes, and the alert history.

Persons appear only by their pseudonymous id. Event notes (`text`) are shown as stored: docs/contract.md §1
keeps them free of anything identifying a person.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from markupsafe import Markup, escape

from pipeline.alerting.reasons import alert_reasons
from pipeline.alerting.records import (
    CONTRIBUTIONS,
    REASON_HORIZON,
    AlertRecord,
    history_of,
)
from pipeline.configset import ConfigSet
from pipeline.labels import (
    ALERT_ACTIONS,
    ALERT_STATES,
    CATEGORIES,
    ENTITY_KINDS,
    SOURCES,
    entity_label,
    event_label,
    label,
    level_label,
    place_name,
)
from pipeline.storage.models import Event
from pipeline.web.casenotes import actor_text

EVENTS = Event.__table__
TOP_REASONS = 5
EVIDENCE_PER_REASON = 4
NOTE_CHARS = 200



@dataclass(frozen=True)
class Evidence:
    at: str
    what: str
    place: str
    source: str
    note: str


@dataclass(frozen=True)
class ReasonView:
    title: str
    rule: str
    category: str
    at: str
    points: float
    worth_at_alert: float
    worth: float
    evidence: tuple[Evidence, ...]
    more: int


@dataclass(frozen=True)
class HistoryView:
    at: str
    action: str
    actor: str
    detail: str
    kind: str


@dataclass
class AlertView:
    alert: AlertRecord
    entity_kind: str
    entity_id: str
    building: str | None
    floor: str | None
    level: str
    level_zh: str
    status_zh: str
    raised_at: str
    score_at_alert: float | None
    score_now: float
    level_now_zh: str
    assignee: str
    chart: Markup
    chart_caption: str
    reasons: list[ReasonView] = field(default_factory=list)
    history: list[HistoryView] = field(default_factory=list)


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class Clocktext:
    def __init__(self, timezone: str):
        self.tz = ZoneInfo(timezone)
        self.suffix = "（北京时间）" if timezone == "Asia/Shanghai" else f"（{timezone}）"

    def full(self, at: datetime) -> str:
        return _utc(at).astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    def short(self, at: datetime) -> str:
        return _utc(at).astimezone(self.tz).strftime("%m-%d %H:%M")

    def day(self, at: datetime) -> str:
        return _utc(at).astimezone(self.tz).strftime("%m-%d")


def leader_label(config: ConfigSet, leader_id: str | None) -> str:
    if not leader_id:
        return "未指定"
    leader = config.assignments.leaders.get(leader_id)
    return f"{leader.name}（{leader_id}）" if leader else leader_id


def level_zh(level: str) -> str:
    return level_label(level)


def entity_parts(ref: str, area=None) -> tuple[str, str]:
    """(kind, name): ("重点人员", "P-0101"), ("地点", "1号楼12层1203室") — persons stay pseudonymous ids."""
    kind, _, ident = ref.partition(":")
    name = entity_label(ref, area)
    shown = name.removeprefix(f"{label(ENTITY_KINDS, kind)} ") if kind in ("person", "business") else name
    return label(ENTITY_KINDS, kind), shown or ident or ref


@dataclass(frozen=True)
class _Contribution:
    rule: str
    category: str | None
    points: float
    fired: datetime
    half_life_s: float
    events: tuple[str, ...]

    def worth(self, at: datetime) -> float:
        if self.fired > at:
            return 0.0
        return self.points * 0.5 ** ((at - self.fired).total_seconds() / self.half_life_s)


def _contributions(conn: sa.Connection, entity: str, since: datetime, until: datetime) -> list[_Contribution]:
    q = (sa.select(CONTRIBUTIONS.c.rule, CONTRIBUTIONS.c.category, CONTRIBUTIONS.c.points, CONTRIBUTIONS.c.fired_at,
                   CONTRIBUTIONS.c.half_life_s, CONTRIBUTIONS.c.events)
         .where(CONTRIBUTIONS.c.entity == entity, CONTRIBUTIONS.c.fired_at <= until.astimezone(UTC),
                CONTRIBUTIONS.c.fired_at >= since.astimezone(UTC))
         .order_by(CONTRIBUTIONS.c.fired_at))
    return [_Contribution(r.rule, r.category, float(r.points), _utc(r.fired_at), float(r.half_life_s),
                          tuple(r.events or ())) for r in conn.execute(q)]


def score_at(contributions: list[_Contribution], at: datetime) -> float:
    return sum(c.worth(at) for c in contributions)


def build(conn: sa.Connection, config: ConfigSet, alert: AlertRecord, now: datetime, timezone: str) -> AlertView:
    clock = Clocktext(timezone)
    now = _utc(now)
    # the chart's window and the score now, from as far back as any of them can reach
    contributions = _contributions(conn, alert.entity, min(alert.raised_at, now) - REASON_HORIZON, now)
    # the reasons: what weighed most when the alert last rose, so decayed reasons stay on the page
    ranked = alert_reasons(conn, alert, now, TOP_REASONS)
    wanted = {eid for c in ranked for eid in c.events[:EVIDENCE_PER_REASON]}
    floors_from = {eid for c in contributions for eid in c.events[:EVIDENCE_PER_REASON]}
    docs = _events(conn, wanted | floors_from)
    titles = {r.id: r.title for r in config.rules.rules}
    reasons = []
    for c in ranked:
        shown = [docs[e] for e in c.events[:EVIDENCE_PER_REASON] if e in docs]
        reasons.append(ReasonView(
            title=titles.get(c.rule, c.rule), rule=c.rule, category=label(CATEGORIES, c.category),
            at=clock.full(c.fired_at), points=c.points, worth_at_alert=c.worth_at_alert, worth=c.worth_now,
            evidence=tuple(_evidence(d, clock, config) for d in shown), more=max(0, len(c.events) - len(shown)),
        ))
    building, floor = _place(alert, [docs[e] for e in floors_from if e in docs])
    kind, ident = entity_parts(alert.entity, config.area)
    score_now = score_at(contributions, now)
    chart, caption = score_chart(contributions, alert, now, config, clock)
    return AlertView(
        alert=alert, entity_kind=kind, entity_id=ident, building=building, floor=floor,
        level=alert.level, level_zh=level_zh(alert.level), status_zh=label(ALERT_STATES, alert.status),
        raised_at=clock.full(alert.raised_at), score_at_alert=alert.score, score_now=score_now,
        level_now_zh=level_zh(config.rules.level_of(score_now)), assignee=leader_label(config, alert.assignee),
        chart=chart, chart_caption=caption, reasons=reasons,
        history=[_history(h, config, clock) for h in history_of(conn, alert.alert_id)],
    )


def _events(conn: sa.Connection, ids: set[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = conn.execute(sa.select(EVENTS.c.event_id, EVENTS.c.doc).where(EVENTS.c.event_id.in_(sorted(ids))))
    return {r.event_id: r.doc for r in rows}


def _evidence(doc: dict[str, Any], clock: Clocktext, config: ConfigSet) -> Evidence:
    location = doc.get("location") or {}
    place = ((location.get("id") and (place_name(location["id"], config.area) or location["id"]))
             or location.get("checkpoint") or (f"{location['building']}号楼" if location.get("building") else ""))
    try:
        at = clock.full(datetime.fromisoformat(doc["occurred_at"]))
    except (KeyError, TypeError, ValueError):
        at = ""
    note = (doc.get("text") or "").strip()
    if len(note) > NOTE_CHARS:
        note = note[:NOTE_CHARS] + "…"
    return Evidence(at, event_label(str(doc.get("kind")), str(doc.get("type"))), place, label(SOURCES, doc.get("source")), note)


def _place(alert: AlertRecord, docs: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """Building (the entity's, else its events' most common) and floor (its events' most common)."""
    buildings = Counter(str(d["location"]["building"]) for d in docs if (d.get("location") or {}).get("building"))
    floors = Counter(d["location"]["floor"] for d in docs if isinstance((d.get("location") or {}).get("floor"), int))
    building = alert.building or (buildings.most_common(1)[0][0] if buildings else None)
    if alert.entity.startswith("building:"):
        return building or alert.entity.partition(":")[2], None
    floor = floors.most_common(1)[0][0] if floors else None
    return building, (None if floor is None else str(floor))


def _history(h, config: ConfigSet, clock: Clocktext) -> HistoryView:
    d = h.detail or {}
    detail = ""
    if h.action == "acknowledged":
        detail = f"备注：{d['note']}" if d.get("note") else ""
    elif h.action == "closed":
        detail = f"原因：{d.get('reason', '')}"
    elif h.action == "escalated":
        detail = f"上报至 {leader_label(config, d.get('to'))}（第 {d.get('step', 1)} 级）"
    elif h.action == "resolved":
        detail = "风险分值已降至预警等级以下"
    elif h.action == "notified":
        items = d.get("deliveries") or []
        sent = sum(1 for i in items if i.get("outcome") == "sent")
        failed = len(items) - sent
        detail = f"成功 {sent} 条" + (f"，失败 {failed} 条" if failed else "")
    elif h.action in ("raised", "upgraded"):
        detail = f"等级 {level_zh(h.level)}"
    actor = actor_text(h.actor, config) if h.actor.startswith("link:") else SOURCES.get(h.actor, h.actor)
    return HistoryView(clock.full(h.at), label(ALERT_ACTIONS, h.action), actor, detail, h.action)


# -- the chart ------------------------------------------------------------------------------------

W, H = 320, 170
PAD_L, PAD_R, PAD_T, PAD_B = 30, 8, 10, 22
SAMPLES = 120
LEVEL_COLOURS = {"medium": "#d89614", "high": "#d4380d", "critical": "#a8071a"}


def chart_window(alert: AlertRecord, now: datetime) -> tuple[datetime, datetime]:
    """Three days before the alert up to now, at most seven days after it."""
    start = alert.raised_at - timedelta(days=3)
    end = min(now, alert.raised_at + timedelta(days=7))
    if end <= start + timedelta(hours=1):
        end = start + timedelta(hours=1)
    return start, end


def score_chart(contributions: list[_Contribution], alert: AlertRecord, now: datetime, config: ConfigSet,
                clock: Clocktext) -> tuple[Markup, str]:
    """An inline SVG of the entity's score over the chart window (presentation attributes only: the
    page's CSP allows no inline style)."""
    start, end = chart_window(alert, now)
    span = (end - start).total_seconds()
    times = [start + timedelta(seconds=span * i / SAMPLES) for i in range(SAMPLES + 1)]
    for c in contributions:      # the jumps: just before and at each firing
        if start < c.fired <= end:
            times += [c.fired - timedelta(seconds=1), c.fired]
    times.sort()
    points = [(t, score_at(contributions, t)) for t in times]
    peak = max((s for _, s in points), default=0.0)
    thresholds = [(name, t) for name, t in config.rules.levels]
    top = max(peak, dict(thresholds).get(config.rules.alert_level, 60.0)) * 1.12 or 1.0
    top = math.ceil(top / 10) * 10

    def x(t: datetime) -> float:
        return PAD_L + (W - PAD_L - PAD_R) * (t - start).total_seconds() / span

    def y(v: float) -> float:
        return PAD_T + (H - PAD_T - PAD_B) * (1 - v / top)

    parts = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-labelledby="chart-title" '
             f'xmlns="http://www.w3.org/2000/svg" font-size="10" font-family="sans-serif">',
             '<title id="chart-title">风险分值变化曲线</title>',
             f'<rect x="{PAD_L}" y="{PAD_T}" width="{W - PAD_L - PAD_R}" height="{H - PAD_T - PAD_B}" '
             'fill="#fafafa" stroke="#d9d9d9"/>']
    for name, t in thresholds:
        if t < top:
            yy = y(t)
            colour = LEVEL_COLOURS.get(name, "#8c8c8c")
            parts.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{yy:.1f}" y2="{yy:.1f}" stroke="{colour}" '
                         'stroke-dasharray="4 3" stroke-width="1"/>')
            parts.append(f'<text x="{PAD_L - 3}" y="{yy + 3:.1f}" text-anchor="end" fill="{colour}">'
                         f'{escape(level_zh(name))}</text>')
    parts.append(f'<text x="{PAD_L - 3}" y="{PAD_T + 8}" text-anchor="end" fill="#595959">{top:g}</text>')
    if start <= alert.raised_at <= end:
        xr = x(alert.raised_at)
        parts.append(f'<line x1="{xr:.1f}" x2="{xr:.1f}" y1="{PAD_T}" y2="{H - PAD_B}" stroke="#595959" '
                     'stroke-width="1"/>')
        parts.append(f'<text x="{min(xr + 3, W - PAD_R - 40):.1f}" y="{PAD_T + 10}" fill="#595959">预警</text>')
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(v):.1f}" for i, (t, v) in enumerate(points))
    area = f"{path} L{x(points[-1][0]):.1f},{y(0):.1f} L{x(points[0][0]):.1f},{y(0):.1f} Z"
    parts.append(f'<path d="{area}" fill="#1677ff" fill-opacity="0.12" stroke="none"/>')
    parts.append(f'<path d="{path}" fill="none" stroke="#1677ff" stroke-width="1.8"/>')
    for edge, anchor in ((start, "start"), (end, "end")):
        parts.append(f'<text x="{x(edge):.1f}" y="{H - 7}" text-anchor="{anchor}" fill="#595959">'
                     f'{escape(clock.short(edge))}</text>')
    parts.append("</svg>")
    caption = (f"风险分值变化（{clock.full(start)} 至 {clock.full(end)}{clock.suffix}，最高 {peak:.1f}）；"
               "虚线为等级阈值，竖线为预警时间。")
    return Markup("".join(parts)), caption
