"""What a notice says, in Chinese: alert raised / upgraded / escalated / resolved / closed, with the
entity (pseudonymous reference only), level, score, top contributions (rule titles from rules.yaml)
and the Grafana drill-down link. Several notices to one leader make one grouped message.

Pure functions of their input: the same notices render the same message, so a retried message is
the message that was tried (its id is the idempotency key).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from pipeline.labels import NOTICE_KINDS as KIND_ZH
from pipeline.labels import building_label, entity_label, level_label, place_name, score_text, time_text
from pipeline.notify.channels.base import Message

if TYPE_CHECKING:
    from pipeline.area import Area

# The drill-down dashboard (one entity: score over time, contributions, evidence events).
DRILLDOWN_UID = "riskwatch-entity"



@dataclass(frozen=True)
class Reason:
    """One contribution as the notice shows it."""

    title: str
    value: float
    fired_at: datetime


@dataclass(frozen=True)
class Notice:
    kind: str                      # raised | upgraded | escalated | resolved | closed
    alert_id: str
    entity: str
    level: str
    score: float | None
    at: datetime
    assignee: str | None
    reasons: tuple[Reason, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)   # escalated: to/step; closed: reason, actor
    building: str | None = None    # the alert's building (persons and businesses are named by id only)
    place: str | None = None       # location id of the latest evidence, where the entity is not a place


@dataclass(frozen=True)
class Renderer:
    grafana_url: str
    leader_names: dict[str, str]
    timezone: str = "Asia/Shanghai"
    alert_level: str = "high"
    # The alert pages (pipeline/web) plug in the per-leader, per-alert signed link to the alert page here.
    alert_link: Callable[[str, str], str | None] | None = None
    area: Area | None = None       # names places (2号楼9层走廊) instead of their ids

    # -- pieces --------------------------------------------------------------------------------

    def drilldown(self, entity: str) -> str:
        return f"{self.grafana_url.rstrip('/')}/d/{DRILLDOWN_UID}?var-entity={quote(entity, safe='')}"

    def local(self, at: datetime) -> str:
        text = time_text(at, ZoneInfo(self.timezone), year=True)
        return f"{text}（北京时间）" if self.timezone == "Asia/Shanghai" else f"{text}（{self.timezone}）"

    def leader(self, leader_id: str | None) -> str:
        if not leader_id:
            return "未指定"
        return f"{self.leader_names.get(leader_id, leader_id)}（{leader_id}）"

    def entity(self, ref: str) -> str:
        return entity_label(ref, self.area)

    def title(self, notice: Notice) -> str:
        return f"【风险预警·{level_label(notice.level)}】{KIND_ZH[notice.kind]}：{self.entity(notice.entity)}"

    def where(self, n: Notice) -> str | None:
        """Where it is, for an entity whose name does not say it (persons, businesses): the place of
        the latest evidence, else the building."""
        kind = n.entity.partition(":")[0]
        if kind in ("location", "checkpoint", "building"):
            return None
        place = place_name(n.place, self.area) if n.place else None
        building = building_label(n.building)
        if place:
            return place if not building or place.startswith(building) else f"{building}{place}"
        return building or None

    def facts(self, n: Notice) -> list[str]:
        """The notice's lines, without markup: what, where, how serious, when, whose."""
        where = self.where(n)
        lines = [
            f"对象：{self.entity(n.entity)}",
            *([f"地点：{where}"] if where else []),
            f"等级：{level_label(n.level, colour=True)}　风险分值：{score_text(n.score)}",
            f"时间：{self.local(n.at)}",
            f"包保领导：{self.leader(n.assignee)}",
        ]
        if n.kind == "escalated":
            lines.append(f"已上报至：{self.leader(n.detail.get('to'))}（第 {n.detail.get('step', 1)} 级）")
            lines.append("原因：超过确认时限仍未确认收到")
        elif n.kind == "resolved":
            lines.append(f"解除原因：已确认收到，且风险分值已降至{level_label(self.alert_level)}等级以下")
        elif n.kind == "closed":
            lines.append(f"关闭原因：{n.detail.get('reason', '')}")
            lines.append(f"操作人：{n.detail.get('actor', '')}")
        return lines

    def reasons(self, n: Notice) -> list[str]:
        return [f"{i}. {r.title}（+{score_text(r.value)}，{self.local(r.fired_at)}）" for i, r in enumerate(n.reasons, 1)]

    def links(self, n: Notice, leader_id: str) -> list[tuple[str, str]]:
        out = [("查看风险详情", self.drilldown(n.entity))]
        if self.alert_link is not None:
            link = self.alert_link(n.alert_id, leader_id)
            if link:
                out.append(("确认收到 / 处置", link))
        return out

    # -- whole messages ------------------------------------------------------------------------

    def message(self, message_id: str, leader_id: str, notices: Sequence[Notice]) -> Message:
        if not notices:
            raise ValueError("a message needs at least one notice")
        if len(notices) == 1:
            title = self.title(notices[0])
        else:
            counts = Counter(n.kind for n in notices)
            summary = "、".join(f"{KIND_ZH[k].split('，')[0]} {c}" for k, c in counts.items())
            title = f"【风险预警】{len(notices)} 条通知（{summary}）"
        md_parts, text_parts = [], []
        for n in notices:
            facts, reasons, links = self.facts(n), self.reasons(n), self.links(n, leader_id)
            # What matters first: the facts and the links to act, then the reasons, so that a message
            # split for a robot's size limit starts with what the leader must do.
            md = [f"### {KIND_ZH[n.kind]}", *(f"> {line}" for line in facts)]
            txt = [f"■ {KIND_ZH[n.kind]}", *(f"  {line}" for line in facts)]
            md += ["", "　".join(f"[{label}]({url})" for label, url in links)]
            txt += [f"  {label}：{url}" for label, url in links]
            if reasons:
                md += ["", "**主要原因：**", *reasons]
                txt += ["  主要原因：", *(f"    {r}" for r in reasons)]
            md_parts.append("\n".join(md))
            text_parts.append("\n".join(txt))
        footer = "（本消息由风险监测系统自动发送，涉及人员均以编号表示。）"
        return Message(
            id=message_id,
            leader_id=leader_id,
            title=title,
            text=f"{self.leader(leader_id)}：\n\n" + "\n\n".join(text_parts) + "\n\n" + footer + "\n",
            markdown="\n\n---\n\n".join(md_parts) + "\n\n" + footer,
            notices=tuple(self.structured(n, leader_id) for n in notices),
        )

    def structured(self, n: Notice, leader_id: str) -> dict[str, Any]:
        """A notice in the generic webhook's JSON (schema_version 1)."""
        return {
            "kind": n.kind,
            "kind_zh": KIND_ZH[n.kind],
            "alert_id": n.alert_id,
            "entity": n.entity,
            "level": n.level,
            "level_zh": level_label(n.level),
            "score": None if n.score is None else round(n.score, 2),
            "at": n.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "assignee": n.assignee,
            "contributions": [
                {"title": r.title, "value": round(r.value, 2),
                 "at": r.fired_at.astimezone(UTC).isoformat().replace("+00:00", "Z")}
                for r in n.reasons
            ],
            "detail": n.detail,
            "links": [{"label": label, "url": url} for label, url in self.links(n, leader_id)],
        }
