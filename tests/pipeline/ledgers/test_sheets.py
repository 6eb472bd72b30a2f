from __future__ import annotations

import pytest

from pipeline.ledgers.sheets import LedgerFileError, data_rows, fill_merged, find_header, read_sheets
from tests.pipeline.ledgers.ledgerkit import csv_bytes, xlsx

NAMES = {"编号": ("编号",), "日期": ("日期", "登记日期"), "金额": ("金额",)}
REQUIRED = ("编号", "日期")


def _rows(data: bytes, name: str, sheet: str | None = None):
    sheets = read_sheets(data, name, sheet)
    header = find_header(sheets[-1].rows if sheet is None and len(sheets) > 1 else sheets[0].rows, NAMES, REQUIRED)
    return sheets, header


def test_header_under_a_merged_title_and_unit_rows_with_spaced_cells():
    data = xlsx([["序号", " 编\u3000号 ", "备注", "登记日期"], [1, "A1", "x", "2024-03-05"]],
                title="2024年矛盾纠纷台账", before=[["填报单位：西于庄街道", None, None, "单位：件"], []])
    sheets = read_sheets(data, "a.xlsx")
    header = find_header(sheets[0].rows, NAMES, REQUIRED)
    assert header is not None and header.index == 3
    assert header.columns == {"编号": 1, "日期": 3}   # an alias, column order free, extra columns ignored
    assert [(n, r[1]) for n, r in data_rows(sheets[0].rows, header)] == [(5, "A1")]


def test_a_cell_merged_over_data_rows_counts_for_each_of_them_in_its_first_column():
    rows = [["编号", "日期", "金额"], ["A1", "2024-03-05", 5], ["A2", None, 6], ["A3", None, 7], ["A4", "2024-03-06", 8],
            ["合计", None, 26]]
    # A2 and A3 share A1's date (B3:B5 under the title row); 合计 spans 编号 and 日期 in its one row
    data = xlsx(rows, title="台账", merges=["B3:B5", "A7:B7"])
    sheets = read_sheets(data, "a.xlsx")
    assert (2, 1, 4, 1) in sheets[0].merged
    header = find_header(sheets[0].rows, NAMES, REQUIRED)
    assert header is not None
    filled = fill_merged(sheets[0], header)
    assert [(n, r[0], r[1]) for n, r in data_rows(filled, header)] == [
        (3, "A1", "2024-03-05"), (4, "A2", "2024-03-05"), (5, "A3", "2024-03-05"), (6, "A4", "2024-03-06")]
    assert filled[0] == sheets[0].rows[0]                    # the merged title is left alone
    assert sheets[0].rows[3][1] != "2024-03-05"              # the sheet itself is not changed


def test_a_merge_in_the_header_rows_is_not_filled():
    rows = [["编号", "日期", "金额"], [None, None, None], ["A1", "2024-03-05", 5]]
    data = xlsx(rows, merges=["A1:A2"])                     # a two-row header cell
    sheets = read_sheets(data, "a.xlsx")
    header = find_header(sheets[0].rows, NAMES, REQUIRED)
    assert header is not None and header.index == 0
    assert fill_merged(sheets[0], header)[1][0] != "编号"


def test_blank_rows_total_rows_and_repeated_headers_are_skipped_and_numbers_stay_the_spreadsheets():
    rows = [["编号", "日期"], ["A1", "2024-03-05"], [None, None], ["合计", 2], ["编号", "日期"], [" 总计：", ""],
            ["A2", "2024-03-06"]]
    for data, name in ((xlsx(rows), "a.xlsx"), (csv_bytes(rows), "a.csv")):
        sheets = read_sheets(data, name)
        header = find_header(sheets[0].rows, NAMES, REQUIRED)
        assert header is not None
        assert [(n, r[0]) for n, r in data_rows(sheets[0].rows, header)] == [(2, "A1"), (7, "A2")], name


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_utf8_or_gb18030(encoding):
    data = csv_bytes([["台账标题"], ["编号", "日期", "金额"], ["纠-1", "2024年3月5日", "１２元"]], encoding)
    sheets = read_sheets(data, "台账.csv")
    assert sheets[0].name == "台账.csv"
    assert sheets[0].rows[2][:3] == ["纠-1", "2024年3月5日", "１２元"]


def test_a_csv_in_neither_encoding_is_refused():
    with pytest.raises(LedgerFileError, match="编码"):
        read_sheets(b"\xff\xfe\x00\xd8bad\x81", "a.csv")


def test_sheets_are_read_by_name():
    data = xlsx([["编号", "日期"], ["A1", "2024-03-05"]], sheet="二月", other_sheets={"说明": [["填表说明"]]})
    assert [s.name for s in read_sheets(data, "a.xlsx")] == ["说明", "二月"]
    assert [s.name for s in read_sheets(data, "a.xlsx", "二月")] == ["二月"]
    with pytest.raises(LedgerFileError, match="三月"):
        read_sheets(data, "a.xlsx", "三月")


def test_other_files_are_refused_in_chinese():
    with pytest.raises(LedgerFileError, match="不支持"):
        read_sheets(b"x", "a.xls")
    with pytest.raises(LedgerFileError, match="无法作为 Excel"):
        read_sheets(b"not a zip", "a.xlsx")


def test_no_header_row():
    assert find_header([["编号", "金额"], ["A1", 3]], NAMES, REQUIRED) is None
