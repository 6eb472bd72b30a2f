"""Ledger files as offices make them, for the ledger tests and the annual integration test."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from openpyxl import Workbook


def xlsx(rows: Sequence[Sequence[object]], *, title: str | None = None, sheet: str = "台账",
         before: Sequence[Sequence[object]] = (), other_sheets: dict[str, Sequence[Sequence[object]]] | None = None,
         merges: Sequence[str] = ()) -> bytes:
    """A workbook whose sheet holds `title` merged across the header's width, then `before` rows
    (units, notes), then `rows` (the header first), with the cells of `merges` ("A3:A5") merged.
    `other_sheets` come before it."""
    book = Workbook()
    first = book.active
    assert first is not None
    for name, content in (other_sheets or {}).items():
        extra = book.create_sheet(name)
        for row in content:
            extra.append(list(row))
    ws = book.create_sheet(sheet)
    book.remove(first)
    width = max((len(r) for r in rows), default=1)
    if title is not None:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(width, 2))
    for row in before:
        ws.append(list(row))
    for row in rows:
        ws.append(list(row))
    for cells in merges:
        ws.merge_cells(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "utf-8-sig") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    for row in rows:
        writer.writerow(["" if c is None else c for c in row])
    return text.getvalue().encode(encoding)
