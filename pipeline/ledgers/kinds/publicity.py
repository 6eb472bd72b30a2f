"""普法宣传台账: one publicity session, with its topic and audience when given."""

from __future__ import annotations

from pipeline.ledgers.base import Column, Draft, LedgerKind, RowReader


def events(row: RowReader) -> list[Draft]:
    at = row.date("日期", required=True)
    topic = row.text("主题")
    audience = row.number("参与人数")
    if at is None:
        return []
    attributes: dict = {}
    if topic:
        attributes["topic"] = topic
    if audience is not None:
        attributes["audience"] = audience
    return [Draft("outreach", "publicity_session", at, attributes)]


KIND = LedgerKind(
    key="publicity",
    events=events,
    columns=(
        Column("日期", True, aliases=("活动日期", "宣传日期"), hint="2024-03-05"),
        Column("主题", aliases=("宣传主题", "活动主题"), width=30),
        Column("参与人数", aliases=("受众人数", "参加人数"), hint="数字，如 60 或 60人"),
    ),
)
