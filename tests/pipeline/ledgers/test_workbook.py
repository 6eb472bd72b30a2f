"""The blank templates import once filled in; the errors workbook holds the bad rows and their reasons."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from pipeline.labels import LEDGER_KINDS
from pipeline.ledgers.convert import RowError
from pipeline.ledgers.registry import KINDS
from pipeline.ledgers.workbook import errors_workbook, template

FILLED = {
    "disputes": {"编号": "MD-9", "登记日期": "2024-03-05", "化解状态": "已化解", "当事人": "张三", "楼栋": "1号楼",
                 "化解日期": "2024-03-06"},
    "hazards": {"编号": "YH-9", "发现日期": "2024-03-05", "整改期限": "2024-03-10", "隐患类别": "用电", "楼栋": "2"},
    "patrols": {"日期": "2024-03-05", "出动人次": "4人次", "车次": 1},
    "inspections": {"日期": "2024-03-05", "检查对象": "某某便利店"},
    "penalties": {"日期": "2024-03-05", "处罚对象": "某某便利店", "处罚种类": "罚款", "罚款金额（元）": 500},
    "publicity": {"日期": "2024-03-05", "主题": "消防安全", "参与人数": "40人"},
    "petitions": {"编号": "XF-9", "受理日期": "2024-03-05", "渠道": "网上平台"},
    "tasks": {"编号": "RW-9", "公示日期": "2024-03-05", "完成日期": "2024-03-20"},
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_filled_in_template_imports(kind, run_import):
    book = load_workbook(io.BytesIO(template(KINDS[kind])))
    sheet = book.active
    assert sheet is not None
    assert sheet["A1"].value == LEDGER_KINDS[kind] and "A1" in str(sheet.merged_cells)
    header = [c.value for c in sheet[3]]
    assert header == [c.name for c in KINDS[kind].columns]
    assert all(sheet.column_dimensions[chr(65 + i)].width for i in range(len(header)))
    sheet.append([FILLED[kind].get(name) for name in header])
    out = io.BytesIO()
    book.save(out)
    report = run_import(out.getvalue(), "filled.xlsx", kind)
    assert report.errors == [] and report.rows == 1 and report.new >= 1


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_blank_template_imports_as_nothing(kind, run_import):
    assert run_import(template(KINDS[kind]), "blank.xlsx", kind).as_json()["rows"] == 0


def test_errors_workbook_keeps_the_rows_and_says_why():
    errors = [RowError("台账", 4, "楼栋", "楼栋“5号楼”不在本辖区"), RowError("台账", 4, "登记日期", "日期为空")]
    data = errors_workbook("台账", ["编号", "楼栋"], [(4, ["MD-2", "5号楼"])], errors)
    rows = list(load_workbook(io.BytesIO(data)).active.values)  # type: ignore[union-attr]
    assert rows[0] == ("原工作表", "原行号", "错误原因", "编号", "楼栋")
    assert rows[1][:2] == ("台账", 4) and rows[1][3:] == ("MD-2", "5号楼")
    assert "【楼栋】" in rows[1][2] and "【登记日期】日期为空" in rows[1][2]
