"""矛盾纠纷排查化解台账: a dispute reported, and resolved or referred by its status."""

from __future__ import annotations

from pipeline.labels import DISPUTE_TYPES
from pipeline.ledgers.base import Column, Draft, LedgerKind, RowReader, code_of

STATUS = {"已化解": "resolved", "化解成功": "resolved", "已调解": "resolved", "已移交": "referred", "移交": "referred",
          "未化解": "open", "化解中": "open", "调解中": "open", "正在": "open", "待": "open"}


def events(row: RowReader) -> list[Draft]:
    case_id = row.text("编号", required=True)
    reported = row.date("登记日期", required=True)
    status = row.choice("化解状态", STATUS, required=True)
    closed = row.date("化解日期")
    parties = row.parties("当事人", "party", entity="person")
    location, place_text = row.location()
    kind_text = row.text("纠纷类型")
    summary = row.text("简要情况")
    if status == "resolved" and row.blank("化解日期"):
        row.fail("化解日期", "化解状态为“已化解”时须填写化解日期")
    closed = row.not_before("化解日期", closed, reported, "登记日期")
    if case_id is None or reported is None or status is None:
        return []
    attributes: dict = {"case_id": case_id}
    dispute_type = code_of(kind_text, DISPUTE_TYPES)
    tags = [dispute_type] if dispute_type else []
    if kind_text and not dispute_type:
        attributes["dispute_type_text"] = kind_text
    if place_text:
        attributes["place"] = place_text
    drafts = [Draft("dispute", "reported", reported, attributes, parties, location, tags, summary)]
    if status == "resolved" and closed is not None:
        drafts.append(Draft("dispute", "resolved", closed, {"case_id": case_id}, parties, location, tags))
    elif status == "referred":
        drafts.append(Draft("dispute", "referred", closed or reported, {"case_id": case_id}, parties, location, tags))
    return drafts


KIND = LedgerKind(
    key="disputes",
    id_column="编号",
    events=events,
    columns=(
        Column("编号", True, hint="每件纠纷唯一，如 MD2024-001"),
        Column("登记日期", True, aliases=("受理日期", "排查日期"), hint="2024-03-05"),
        Column("化解状态", True, hint="已化解 / 化解中 / 已移交"),
        Column("纠纷类型", hint="邻里噪音、物业费争议…"),
        Column("当事人", hint="姓名，多人用顿号隔开", width=18),
        Column("楼栋", hint="1号楼"),
        Column("地点", hint="如 1号楼大堂 或 HD-1-1203"),
        Column("简要情况", hint="不写身份证号、电话", width=36),
        Column("化解日期", hint="已化解时必填"),
    ),
)
