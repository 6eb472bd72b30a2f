"""The weekly review as an Excel workbook: one sheet per section, a title row, a frozen header row,
column widths from the content, number formats, and level colours (conditional formatting)."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from pipeline.exports.review import WeeklyReview
from pipeline.labels import LEVEL_ORDER, LEVEL_TINTS, LEVELS

TITLE_ROW, HEADER_ROW = 1, 2          # data starts on row 3; panes frozen below the header
LEVEL_FILLS = {LEVELS[level]: LEVEL_TINTS[level].lstrip("#") for level in LEVEL_ORDER}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
THIN = Side(style="thin", color="A6A6A6")
MAX_WIDTH = 60


def display_width(value) -> int:
    """Columns a value takes in a monospace cell: East Asian wide characters count twice."""
    text = value.strftime("%Y-%m-%d %H:%M") if isinstance(value, pd.Timestamp) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class XlsxExporter:
    suffix = "xlsx"

    def write(self, review: WeeklyReview, path: Path) -> None:
        title = f"{review.area}风险研判周报 {review.period.week_zh()}"
        with pd.ExcelWriter(path, engine="openpyxl") as writer:
            for sheet in review.sheets:
                sheet.frame.to_excel(writer, sheet_name=sheet.name, startrow=HEADER_ROW - 1, index=False)
                ws = writer.sheets[sheet.name]
                self._format(ws, sheet, title)
            wb = writer.book
            wb.properties.title = title
            wb.properties.creator = "riskwatch"

    def _format(self, ws, sheet, title: str) -> None:
        df = sheet.frame
        ncols = max(1, len(df.columns))
        ws.cell(TITLE_ROW, 1, f"{title} — {sheet.name}").font = Font(bold=True, size=13)
        ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
        last_row = HEADER_ROW + len(df)
        for j, name in enumerate(df.columns, start=1):
            cell = ws.cell(HEADER_ROW, j)
            cell.font, cell.fill = Font(bold=True), HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
            sample = df[name].head(500).dropna()
            width = max([display_width(name)] + [display_width(v) for v in sample])
            ws.column_dimensions[get_column_letter(j)].width = min(MAX_WIDTH, width + 2)
            fmt = sheet.formats.get(name)
            if fmt and len(df):
                for (c,) in ws.iter_rows(min_row=HEADER_ROW + 1, max_row=last_row, min_col=j, max_col=j):
                    c.number_format = fmt
        if len(df.columns):
            ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(ncols)}{max(last_row, HEADER_ROW)}"
        if sheet.level_column and sheet.level_column in df.columns and len(df):
            col = get_column_letter(list(df.columns).index(sheet.level_column) + 1)
            area = f"{col}{HEADER_ROW + 1}:{col}{last_row}"
            for label, colour in LEVEL_FILLS.items():
                ws.conditional_formatting.add(area, CellIsRule(
                    operator="equal", formula=[f'"{label}"'], fill=PatternFill("solid", bgColor=colour)))
