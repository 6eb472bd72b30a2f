"""信访及网上平台件: a petition received through a channel, and replied to."""

from __future__ import annotations

from pipeline.ledgers.base import Column, Draft, LedgerKind, RowReader

CHANNELS = {"网上平台": "online", "网络": "online", "网上": "online", "来信": "letter", "来访": "visit",
            "电话": "phone", "12345": "phone"}


def events(row: RowReader) -> list[Draft]:
    petition_id = row.text("编号", required=True)
    received = row.date("受理日期", required=True)
    channel = row.choice("渠道", CHANNELS, required=True)
    replied = row.date("答复日期")
    replied = row.not_before("答复日期", replied, received, "受理日期")
    if petition_id is None or received is None or channel is None:
        return []
    attributes = {"petition_id": petition_id, "channel": channel}
    drafts = [Draft("petition", "received", received, attributes)]
    if replied is not None:
        drafts.append(Draft("petition", "replied", replied, dict(attributes)))
    return drafts


KIND = LedgerKind(
    key="petitions",
    id_column="编号",
    events=events,
    columns=(
        Column("编号", True, aliases=("信访编号", "件号"), hint="每件唯一"),
        Column("受理日期", True, aliases=("登记日期",), hint="2024-03-05"),
        Column("渠道", True, aliases=("来源渠道", "信访形式"), hint="网上平台 / 来信 / 来访 / 电话 / 12345"),
        Column("答复日期", hint="未答复留空"),
    ),
)
