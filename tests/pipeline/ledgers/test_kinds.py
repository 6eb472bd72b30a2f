"""Each ledger kind: a row to its events (types, times, attributes), and its bad rows."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from pipeline.ledgers.convert import build_events, parse_ledger
from pipeline.ledgers.registry import KINDS
from pipeline.ledgers.sheets import Sheet
from tests.conftest import examples

TZ = ZoneInfo("Asia/Shanghai")


def convert(config, kind: str, header: list, *rows: list):
    parsed = parse_ledger([Sheet("表1", [header, *map(list, rows)])], KINDS[kind], config.area)
    ids = {}
    docs = build_events(parsed, lambda p: ids.setdefault((p.entity, p.name), f"{p.entity[0].upper()}-{len(ids)}"))
    return [d for _, d in docs], parsed.errors


def at(*parts) -> str:
    return datetime(*parts, tzinfo=TZ).isoformat()


def types(docs):
    return [f"{d['kind']}.{d['type']}" for d in docs]


def test_the_table_holds_the_eight_ledgers():
    assert sorted(KINDS) == sorted(["disputes", "hazards", "patrols", "inspections", "penalties", "publicity",
                                    "petitions", "tasks"])


def test_disputes(config):
    header = ["编号", "登记日期", "化解状态", "纠纷类型", "当事人", "楼栋", "地点", "简要情况", "化解日期"]
    docs, errors = convert(config, "disputes", header,
                           ["MD-1", "2024-03-05", "已化解", "邻里噪音", "张三、李四", "1号楼", "1号楼大堂",
                            "张三称李四深夜吵闹", "2024/3/8"],
                           ["MD-2", "2024-04-01", "已移交", "", "王五", "", "", "", ""],
                           ["MD-3", "2024-04-02", "化解中", "", "", "2", "小区南门", "", ""])
    assert errors == []
    assert types(docs) == ["dispute.reported", "dispute.resolved", "dispute.reported", "dispute.referred",
                           "dispute.reported"]
    reported, resolved = docs[0], docs[1]
    assert reported["attributes"] == {"ledger": "disputes", "case_id": "MD-1"}
    assert reported["occurred_at"] == at(2024, 3, 5, 9) and resolved["occurred_at"] == at(2024, 3, 8, 9)
    assert reported["location"] == {"id": "HD-1-01-lobby", "building": "1"} and reported["tags"] == ["neighbour_noise"]
    assert [s["id"] for s in reported["subjects"]] == ["P-0", "P-1"]
    assert reported["text"] == "P-0称P-1深夜吵闹"
    assert resolved["attributes"]["case_id"] == "MD-1" and reported["source"] == "ledger"
    assert docs[3]["occurred_at"] == at(2024, 4, 1, 9)        # referred without a date: when it was registered
    assert docs[4]["attributes"]["place"] == "小区南门" and docs[4]["location"] == {"building": "2"}
    assert reported["event_id"] == "ledger:disputes:MD-1:dispute.reported"


@pytest.mark.parametrize(("row", "column", "words"), [
    (["MD-1", "2024-03-05", "已化解", ""], "化解日期", "须填写化解日期"),
    (["MD-1", "2024-03-05", "搁置", ""], "化解状态", "无法识别的取值"),
    (["MD-1", "2024-03-05", "已化解", "2024-03-01"], "化解日期", "早于登记日期"),
    (["", "2024-03-05", "化解中", ""], "编号", "必填项为空"),
])
def test_bad_dispute_rows(config, row, column, words):
    docs, errors = convert(config, "disputes", ["编号", "登记日期", "化解状态", "化解日期"], row)
    assert [(e.row, e.column) for e in errors] == [(2, column)] and words in errors[0].reason
    assert docs == []


def test_hazards_due_at_is_the_end_of_the_deadline_day(config):
    header = ["编号", "发现日期", "整改期限", "隐患类别", "楼栋", "地点", "隐患描述", "整改完成日期", "复查日期"]
    docs, errors = convert(config, "hazards", header,
                           ["YH-1", "2024-05-01", "2024-05-03", "消防", "2号楼", "2号楼消防泵房", "泵房堆物",
                            "2024-05-02 16:00", "2024-05-04"],
                           ["YH-2", "2024-05-01 10:00", "7天", "下水道", "", "", "", "", ""])
    assert errors == []
    assert types(docs) == ["hazard.found", "hazard.rectified", "hazard.verified", "hazard.found"]
    found = docs[0]
    assert found["attributes"] == {"ledger": "hazards", "hazard_id": "YH-1", "due_at": at(2024, 5, 3, 23, 59, 59),
                                   "category": "fire"}
    assert found["location"] == {"id": "HD-2-B1-pump", "building": "2"}
    assert docs[1]["occurred_at"] == at(2024, 5, 2, 16) and docs[1]["attributes"]["hazard_id"] == "YH-1"
    assert docs[3]["attributes"]["due_at"] == at(2024, 5, 8, 23, 59, 59)
    assert docs[3]["attributes"]["category"] == "other" and docs[3]["attributes"]["category_text"] == "下水道"


def test_an_unknown_building_is_a_bad_row(config):
    docs, errors = convert(config, "hazards", ["编号", "发现日期", "整改期限", "楼栋"],
                           ["YH-1", "2024-05-01", "2024-05-03", "5号楼"])
    assert docs == [] and [(e.column, e.row) for e in errors] == [("楼栋", 2)] and "不在本辖区" in errors[0].reason


def test_patrols_count_blank_as_zero(config):
    docs, errors = convert(config, "patrols", ["日期", "出动人次", "车次", "路次", "社区次"],
                           ["2024-06-01 20:00", "6人次", "2", "", "１"])
    assert errors == [] and types(docs) == ["patrol.patrol_finished"]
    assert docs[0]["attributes"] == {"ledger": "patrols", "personnel": 6, "vehicles": 2, "roads": 0, "communities": 1}
    assert docs[0]["occurred_at"] == at(2024, 6, 1, 20)
    _, errors = convert(config, "patrols", ["日期", "出动人次"], ["2024-06-01", "六"])
    assert [(e.column, e.reason[:4]) for e in errors] == [("出动人次", "应为数字")]


def test_inspections_name_a_business(config):
    docs, errors = convert(config, "inspections", ["检查对象", "日期"], ["  某某 超市 ", "2024-07-01"])
    assert errors == [] and types(docs) == ["inspection.unit_inspected"]
    assert docs[0]["subjects"] == [{"type": "business", "id": "B-0", "role": "inspected"}]


def test_penalties(config):
    docs, errors = convert(config, "penalties", ["日期", "处罚对象", "处罚种类", "罚款金额（元）"],
                           ["2024-08-01", "某某餐饮有限公司", "罚款", "２,０００元"], ["2024-08-02", "赵六", "警告", ""])
    assert errors == []
    assert [d["attributes"]["amount_yuan"] for d in docs] == [2000, 0]
    assert [d["subjects"][0]["type"] for d in docs] == ["business", "person"]
    assert docs[0]["attributes"]["penalty_type"] == "罚款" and types(docs) == ["enforcement.penalty_issued"] * 2


def test_publicity(config):
    docs, errors = convert(config, "publicity", ["日期", "主题", "参与人数"], ["2024-09-01", "民法典进社区", "60人"],
                           ["2024-09-02", "", ""])
    assert errors == [] and types(docs) == ["outreach.publicity_session"] * 2
    assert docs[0]["attributes"] == {"ledger": "publicity", "topic": "民法典进社区", "audience": 60}


@pytest.mark.parametrize(("cell", "channel"), [("网上平台", "online"), ("网络", "online"), ("来信", "letter"),
                                               ("来访", "visit"), ("电话", "phone"), ("12345", "phone"),
                                               ("12345热线", "phone")])
def test_petition_channels(config, cell, channel):
    docs, errors = convert(config, "petitions", ["编号", "受理日期", "渠道", "答复日期"],
                           ["XF-1", "2024-10-01", cell, "2024-10-09"])
    assert errors == [] and types(docs) == ["petition.received", "petition.replied"]
    assert docs[0]["attributes"] == {"ledger": "petitions", "petition_id": "XF-1", "channel": channel}


def test_an_unknown_petition_channel_is_a_bad_row(config):
    _, errors = convert(config, "petitions", ["编号", "受理日期", "渠道"], ["XF-1", "2024-10-01", "信鸽"])
    assert [e.column for e in errors] == ["渠道"] and "网上平台" in errors[0].reason


def test_tasks(config):
    docs, errors = convert(config, "tasks", ["编号", "公示日期", "完成日期"], ["RW-1", "2024-11-01", "2024-11-20"],
                           ["RW-2", "2024-11-02", ""])
    assert errors == [] and types(docs) == ["inspection.task_published", "inspection.task_completed",
                                            "inspection.task_published"]
    assert docs[1]["attributes"]["task_id"] == "RW-1"


def test_a_repeated_number_is_a_bad_row(config):
    _, errors = convert(config, "tasks", ["编号", "公示日期"], ["RW-1", "2024-11-01"], ["RW-1", "2024-11-02"])
    assert [(e.row, e.column) for e in errors] == [(3, "编号")] and "第2行重复" in errors[0].reason


def test_identical_rows_without_a_number_are_told_apart_by_occurrence(config):
    docs, _ = convert(config, "patrols", ["日期", "出动人次"], ["2024-06-01", "4"], ["2024-06-01", "4"], ["2024-06-01", "5"])
    ids = [d["event_id"] for d in docs]
    assert len(set(ids)) == 3 and ids[0].endswith(".1:patrol.patrol_finished") and ids[1].endswith(".2:patrol.patrol_finished")
    assert ids[0].rsplit(".", 2)[0] == ids[1].rsplit(".", 2)[0]


def test_a_number_that_is_not_key_like_is_hashed(config):
    docs, _ = convert(config, "tasks", ["编号", "公示日期"], ["西抽〔2024〕3号", "2024-11-01"])
    assert docs[0]["event_id"].startswith("ledger:tasks:h") and "〔" not in docs[0]["event_id"]


@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 4), st.sampled_from(["", "1", "2"])), min_size=1,
                max_size=30), st.integers(0, 30))
@hsettings(max_examples=examples(300))
def test_a_longer_ledger_keeps_the_ids_of_the_rows_it_shares(config, rows, cut):
    """Event ids of a ledger's first rows are the ids those rows get in any longer version of it, and
    no two events share an id (identical rows are told apart by their occurrence)."""
    header = ["日期", "出动人次", "车次"]
    table = [[f"2024-06-0{day}", people, cars] for day, people, cars in rows]
    short, _ = convert(config, "patrols", header, *table[:cut])
    full, _ = convert(config, "patrols", header, *table)
    full_ids = [d["event_id"] for d in full]
    assert len(set(full_ids)) == len(full_ids) == len(table)
    assert [d["event_id"] for d in short] == full_ids[:min(cut, len(table))]
