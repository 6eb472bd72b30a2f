"""Reading a ledger file into rows with their spreadsheet numbers, and finding the header row.

pandas reads both forms: `.xlsx` through the calamine engine (python-calamine: 100,000 rows in ~3 s
where openpyxl takes ~21 s on the benchmark machine, bench/ledger_import.py), `.csv` in UTF-8 (with or
without BOM) or GB18030, the encoding Excel writes on a Chinese Windows. Every row is kept, blank ones
included, so that list index + 1 is the row number the spreadsheet shows.
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


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[list[object]]


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
    return [Sheet(str(name), frame.to_numpy(dtype=object).tolist()) for name, frame in frames.items()]


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
