"""The workbooks riskwatch writes for offices (openpyxl): a blank template of each ledger, and the
`<file>.errors.xlsx` of rows `--skip-bad` left out.

A template has the ledger's title as a merged row, a grey hint row with each column's format (and
必填 for the required ones), then the header exactly as the import looks for it. Rows above the header
are skipped on import, so an office fills the template from row 4 and imports it as it is.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from pipeline.labels import LEDGER_KINDS
from pipeline.ledgers.base import LedgerKind
from pipeline.ledgers.convert import RowError
from pipeline.ledgers.values import is_blank

_BOLD = Font(bold=True)
_GREY = Font(color="808080", size=9)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="center")


def template(kind: LedgerKind) -> bytes:
    """A blank .xlsx of the ledger: title row, hint row, header row; data starts on row 4."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = LEDGER_KINDS[kind.key][:31]
    width = len(kind.columns)
    sheet.cell(1, 1, LEDGER_KINDS[kind.key]).font = Font(bold=True, size=14)
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).alignment = Alignment(horizontal="center")
    for col, column in enumerate(kind.columns, start=1):
        hint = ("必填。" if column.required else "") + column.hint
        sheet.cell(2, col, hint or None).font = _GREY
        sheet.cell(2, col).alignment = _WRAP
        head = sheet.cell(3, col, column.name)
        head.font, head.fill = _BOLD, _HEAD_FILL
        sheet.column_dimensions[get_column_letter(col)].width = column.width
    sheet.row_dimensions[2].height = 30
    sheet.freeze_panes = "A4"
    return _bytes(book)


def errors_workbook(sheet_name: str, header: Sequence[object], bad_rows: Sequence[tuple[int, Sequence[object]]],
                    errors: Sequence[RowError]) -> bytes:
    """The bad rows as they were, under their header, with the original row number and every reason."""
    reasons: dict[int, list[str]] = {}
    for error in errors:
        reasons.setdefault(error.row, []).append(f"【{error.column}】{error.reason}" if error.column else error.reason)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "未导入的行"
    sheet.append(["原工作表", "原行号", "错误原因", *(_cell(h) for h in header)])
    for cell in sheet[1]:
        cell.font, cell.fill = _BOLD, _HEAD_FILL
    for number, cells in bad_rows:
        sheet.append([sheet_name, number, "；".join(reasons.get(number, [])), *(_cell(c) for c in cells)])
    sheet.column_dimensions["C"].width = 48
    sheet.freeze_panes = "A2"
    return _bytes(book)


def _cell(value: object) -> object:
    return None if is_blank(value) else value


def _bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
