"""Reading a ledger file into rows with their spreadsheet numbers, and finding the header row.

pandas reads both forms: `.xlsx` through the calamine engine (python-calamine: 100,000 rows in ~3 s
where openpyxl takes ~21 s on the benchmark machine, bench/ledger_import.py), `.csv` in UTF-8 (with or
without BOM) or GB18030, the encoding Excel writes on a Chinese Windows. Every row is kept, blank ones
included, so that list index + 1 is the row number the spreadsheet shows.

Offices merge a cell over the rows it holds for (one date for the day's patrols, one 当事人 for a
dispute's several lines). pandas gives the value to the merge's first row only, so each sheet keeps
its merged ranges (read with python-calamine, which pandas reads through but does not pass on) and
`fill_merged` gives the value to every row of a merge below the header.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath

import pandas as pd

from pipeline.errors import UsageError
from pipeline.ledgers.values import compact, is_blank

TOTAL_WORDS = ("合计", "总计")


class LedgerFileError(UsageError):
    """A file that cannot be read as a ledger at all (format, encoding, no header); message in Chinese."""


# A merged range: first row, first column, last row, last column (0-based, as the rows are indexed).
Merge = tuple[int, int, int, int]


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[list[object]]
    merged: tuple[Merge, ...] = ()


@dataclass(frozen=True)
class Header:
    index: int                    # 0-based row index of the header row
    columns: dict[str, int]       # declared column name -> 0-based column index


def read_sheets(data: bytes, filename: str, sheet: str | None = None) -> list[Sheet]:
    """The sheets of the file (one for a CSV, named after the file), or only `sheet` when given."""
    suffix = PurePath(filename).suffix.lower()
    if suffix == ".csv":
        if sheet is not None and sheet != PurePath(filename).name:
            raise LedgerFileError(f"CSV 文件没有名为“{sheet}”的工作表")
        return [Sheet(PurePath(filename).name, _csv_rows(data))]
    if suffix not in (".xlsx", ".xlsm"):
        raise LedgerFileError(f"不支持的文件类型“{suffix or filename}”：请使用 .xlsx 或 .csv")
    try:
        frames = pd.read_excel(io.BytesIO(data), sheet_name=sheet if sheet is not None else None,
                               header=None, dtype=object, engine="calamine")
    except ValueError as exc:
        if sheet is not None and "not found" in str(exc).lower():
            raise LedgerFileError(f"工作簿中没有名为“{sheet}”的工作表") from None
        raise LedgerFileError("文件无法作为 Excel 工作簿读取（是否已损坏或不是 .xlsx？）") from None
    except Exception:  # noqa: BLE001 - calamine raises its own types for every kind of broken file
        raise LedgerFileError("文件无法作为 Excel 工作簿读取（是否已损坏或不是 .xlsx？）") from None
    if isinstance(frames, pd.DataFrame):
        frames = {sheet or "": frames}
    merged = _merged_ranges(data, [str(name) for name in frames])
    return [Sheet(str(name), frame.to_numpy(dtype=object).tolist(), merged.get(str(name), ()))
            for name, frame in frames.items()]


def _merged_ranges(data: bytes, names: list[str]) -> dict[str, tuple[Merge, ...]]:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    out: dict[str, tuple[Merge, ...]] = {}
    for name in names:
        ranges = book.get_sheet_by_name(name).merged_cell_ranges or ()
        out[name] = tuple((r0, c0, r1, c1) for (r0, c0), (r1, c1) in ranges)
    return out


def fill_merged(sheet: Sheet, header: Header) -> list[list[object]]:
    """The sheet's rows with the value of every merge that starts below the header in each row it
    spans, in its first column (a merge across columns belongs to its first one, as in the header)."""
    rows = sheet.rows
    below = [m for m in sheet.merged if m[0] > header.index and m[2] > m[0]]
    if not below:
        return rows
    rows = [list(row) for row in rows]
    for first_row, column, last_row, _ in below:
        if first_row >= len(rows) or column >= len(rows[first_row]):
            continue
        value = rows[first_row][column]
        for index in range(first_row + 1, min(last_row, len(rows) - 1) + 1):   # pandas drops trailing blank rows
            if column < len(rows[index]) and is_blank(rows[index][column]):
                rows[index][column] = value
    return rows


def _csv_rows(data: bytes) -> list[list[object]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise LedgerFileError("CSV 文件编码无法识别：请另存为 UTF-8 或 GB18030（GBK）编码")
    width = max((len(r) for r in csv.reader(io.StringIO(text))), default=0)
    if width == 0:
        return []
    frame = pd.read_csv(io.StringIO(text), header=None, names=range(width), dtype=str, keep_default_na=False,
                        skip_blank_lines=False, engine="c")
    return frame.to_numpy(dtype=object).tolist()


def header_key(cell: object) -> str:
    """A header cell as compared: no spaces of any width, NFKC (full-width brackets become ASCII)."""
    return compact(cell).rstrip(":*")


def find_header(rows: Sequence[Sequence[object]], names: dict[str, tuple[str, ...]],
                required: Sequence[str]) -> Header | None:
    """The first row holding every required column. `names` maps each declared column to the header
    spellings accepted for it (its own name first)."""
    wanted = {header_key(s): column for column, spellings in names.items() for s in spellings}
    for index, row in enumerate(rows):
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            column = wanted.get(header_key(cell))
            if column is not None and column not in columns:
                columns[column] = position
        if all(c in columns for c in required):
            return Header(index, columns)
    return None


def data_rows(rows: Sequence[Sequence[object]], header: Header) -> Iterator[tuple[int, Sequence[object]]]:
    """(spreadsheet row number, row) under the header, without blank rows, 合计/总计 rows and header
    rows repeated on later printed pages."""
    header_row = [header_key(c) for c in rows[header.index]]
    header_words = {k for k in header_row if k}
    for index in range(header.index + 1, len(rows)):
        row = rows[index]
        first = row[0] if row and not is_blank(row[0]) else next((c for c in row if not is_blank(c)), None)
        if first is None:
            continue
        word = header_key(first)
        if word.startswith(TOTAL_WORDS):
            continue
        if word in header_words and [header_key(c) for c in row] == header_row:
            continue
        yield index + 1, row
