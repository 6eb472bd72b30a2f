"""A ledger file to event documents (docs/contract.md §10), before anything is stored.

`parse_ledger` reads the sheets, finds the header, reads every data row through its kind and collects
every problem as a RowError (sheet, spreadsheet row, column, Chinese reason). `build_events` then turns
the good rows into §1 event documents once the names have pseudonyms.

Event ids are `ledger:<kind>:<row key>:<event kind>.<type>`. The row key is the 编号 (as written when it is
key-like, else a hash of it) or, for kinds without one, a hash of the row's parsed content (names as
their pseudonyms) plus the row's occurrence number among identical rows: importing the same file again,
or a longer version of it, derives the same ids for the rows already imported.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson

from pipeline.area import Area
from pipeline.ledgers.base import Draft, LedgerKind, Party, RowReader
from pipeline.ledgers.places import Places
from pipeline.ledgers.sheets import LedgerFileError, Sheet, data_rows, fill_merged, find_header

SOURCE = "ledger"
_KEYLIKE = re.compile(r"[A-Za-z0-9._-]{1,48}")


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "reason": self.reason}

    def __str__(self) -> str:
        return f"工作表“{self.sheet}”第{self.row}行【{self.column}】：{self.reason}"


@dataclass
class LedgerRow:
    sheet: str
    number: int                   # the row number the spreadsheet shows
    cells: list[object]           # as read, for the errors file
    drafts: list[Draft]
    identity: dict[str, object]   # parsed values of the row (names as Party placeholders)
    key: str | None               # the 编号, for kinds that have one


@dataclass
class ParsedLedger:
    kind: LedgerKind
    sheet: str
    header: list[object]
    rows: list[LedgerRow] = field(default_factory=list)       # every data row, good or bad
    errors: list[RowError] = field(default_factory=list)

    @property
    def bad_rows(self) -> set[int]:
        return {e.row for e in self.errors}

    def good_rows(self) -> list[LedgerRow]:
        bad = self.bad_rows
        return [r for r in self.rows if r.number not in bad]

    def parties(self) -> set[tuple[str, str]]:
        return {(p.entity, p.name) for r in self.good_rows() for d in r.drafts for p in d.subjects}


def parse_ledger(sheets: list[Sheet], kind: LedgerKind, area: Area) -> ParsedLedger:
    """The first sheet holding the kind's header, read row by row."""
    spellings, required = kind.spellings(), kind.required
    for sheet in sheets:
        header = find_header(sheet.rows, spellings, required)
        if header is not None:
            break
    else:
        names = "、".join(s.name for s in sheets) or "（空文件）"
        raise LedgerFileError(f"在工作表 {names} 中未找到表头：表头行须包含 {'、'.join(required)}")
    tz = ZoneInfo(area.timezone)
    places = Places(area)
    parsed = ParsedLedger(kind, sheet.name, list(sheet.rows[header.index]))
    seen_keys: dict[str, int] = {}
    for number, row in data_rows(fill_merged(sheet, header), header):
        cells = {name: (row[i] if i < len(row) else None) for name, i in header.columns.items()}
        reader = RowReader(cells, tz, places)
        drafts = kind.events(reader)
        key = reader.canonical.get(kind.id_column) if kind.id_column else None
        if isinstance(key, str):
            if key in seen_keys:
                reader.fail(kind.id_column or "", f"{kind.id_column}“{key[:40]}”与第{seen_keys[key]}行重复")
            else:
                seen_keys[key] = number
        for problem in reader.problems:
            parsed.errors.append(RowError(sheet.name, number, problem.column, problem.reason))
        parsed.rows.append(LedgerRow(sheet.name, number, list(row), drafts, reader.canonical,
                                     key if isinstance(key, str) else None))
    return parsed


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def build_events(parsed: ParsedLedger, pseudonym: Callable[[Party], str]) -> list[tuple[int, dict]]:
    """(row number, event document) for every draft of every good row, in row order."""
    kind = parsed.kind.key
    occurrences: Counter[str] = Counter()
    stamps: dict[datetime, str] = {}     # ledgers repeat their dates; isoformat is worth caching
    out: list[tuple[int, dict]] = []
    for row in parsed.good_rows():
        if row.key is not None:
            row_key = row.key if _KEYLIKE.fullmatch(row.key) else "h" + _digest(row.key)
        else:
            content = _digest(orjson.dumps(_identity(row.identity, pseudonym), option=orjson.OPT_SORT_KEYS).decode())
            occurrences[content] += 1
            row_key = f"r{content}.{occurrences[content]}"
        for draft in row.drafts:
            at = stamps.get(draft.at)
            if at is None:
                at = stamps[draft.at] = draft.at.isoformat()
            out.append((row.number, _document(kind, row_key, draft, at, pseudonym)))
    return out


def _identity(values: dict[str, object], pseudonym: Callable[[Party], str]) -> dict[str, object]:
    return {column: ([pseudonym(p) for p in value] if isinstance(value, list) else value)
            for column, value in values.items()}


def _document(kind: str, row_key: str, draft: Draft, at: str, pseudonym: Callable[[Party], str]) -> dict:
    doc: dict = {
        "event_id": f"{SOURCE}:{kind}:{row_key}:{draft.kind}.{draft.type}",
        "kind": draft.kind,
        "type": draft.type,
        "occurred_at": at,
        "source": SOURCE,
    }
    if draft.location:
        doc["location"] = draft.location
    text = draft.text
    if draft.subjects:
        subjects = []
        for party in draft.subjects:
            pid = pseudonym(party)
            subjects.append({"type": party.entity, "id": pid, "role": party.role})
            if text:
                # free notes name the parties too: the note keeps the pseudonym instead
                text = text.replace(party.name, pid)
        doc["subjects"] = subjects[:20]
    if draft.tags:
        doc["tags"] = draft.tags
    attributes = {"ledger": kind, **draft.attributes}
    if draft.subjects:
        attributes = {k: _scrub(v, draft.subjects, pseudonym) for k, v in attributes.items()}
    doc["attributes"] = attributes
    if text:
        doc["text"] = text[:4000]
    return doc


def _scrub(value: object, parties: list[Party], pseudonym: Callable[[Party], str]) -> object:
    if not isinstance(value, str):
        return value
    for party in parties:
        value = value.replace(party.name, pseudonym(party))
    return value
