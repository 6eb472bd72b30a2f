"""The interface every ledger kind implements, and the row reader it builds events with.

A kind declares its columns and turns one row into event drafts through a RowReader, whose typed
getters (`date`, `number`, `building`, `persons`, ...) record a Chinese reason for every unreadable cell
instead of stopping at the first, so one pass lists every problem of the row. Names read from the row
stay in `Party` placeholders: the importer swaps them for registry pseudonyms before any event exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from pipeline.ledgers.places import Place, Places
from pipeline.ledgers.values import CellError, clean_text, compact, is_blank, parse_date, parse_number

_NAME_SEPARATORS = re.compile(r"[、,，;；/|\s]+")
# Words that mark an organisation rather than a person (处罚对象 may be either).
_BUSINESS_WORDS = ("公司", "店", "厂", "商行", "中心", "超市", "餐厅", "饭馆", "酒店", "宾馆", "工作室", "经营部",
                   "门市部", "事务所", "诊所", "药房", "集团", "合作社", "个体工商户", "网吧", "会所")


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    hint: str = ""             # the format hint row of the blank template
    width: int = 14


@dataclass(frozen=True)
class Party:
    """A name from the ledger, replaced by its registry pseudonym before the event is built."""

    entity: str                # person | business
    name: str
    role: str


@dataclass
class Draft:
    """One event of a row, before ids: `subjects` hold Party placeholders."""

    kind: str
    type: str
    at: datetime
    attributes: dict = field(default_factory=dict)
    subjects: list[Party] = field(default_factory=list)
    location: dict | None = None
    tags: list[str] = field(default_factory=list)
    text: str | None = None


@dataclass(frozen=True)
class LedgerKind:
    """One ledger (台账): its columns, how a row becomes events, and how a row is identified."""

    key: str
    columns: tuple[Column, ...]
    events: Callable[[RowReader], list[Draft]]
    id_column: str | None = None      # a row identified by this column, else by its content

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def spellings(self) -> dict[str, tuple[str, ...]]:
        return {c.name: (c.name, *c.aliases) for c in self.columns}


@dataclass(frozen=True)
class CellProblem:
    column: str
    reason: str


class RowReader:
    """Typed access to one data row; problems are collected in `problems`, getters return None."""

    def __init__(self, cells: dict[str, object], tz: ZoneInfo, places: Places):
        self.cells = cells
        self.tz = tz
        self.places = places
        self.problems: list[CellProblem] = []
        self.canonical: dict[str, object] = {}     # column -> parsed value, the row's identity when it has no 编号

    def fail(self, column: str, reason: str) -> None:
        self.problems.append(CellProblem(column, reason))

    def blank(self, column: str) -> bool:
        return is_blank(self.cells.get(column))

    def text(self, column: str, required: bool = False) -> str | None:
        value = clean_text(self.cells.get(column))
        if not value:
            if required:
                self.fail(column, "必填项为空")
            return None
        self.canonical[column] = value
        return value

    def date(self, column: str, required: bool = False, end_of_day: bool = False) -> datetime | None:
        if self.blank(column):
            if required:
                self.fail(column, "必填项为空")
            return None
        try:
            value = parse_date(self.cells[column], self.tz, end_of_day=end_of_day)
        except CellError as exc:
            self.fail(column, exc.reason)
            return None
        self.canonical[column] = value
        return value

    def number(self, column: str, required: bool = False) -> int | float | None:
        if self.blank(column):
            if required:
                self.fail(column, "必填项为空")
            return None
        try:
            value = parse_number(self.cells[column])
        except CellError as exc:
            self.fail(column, exc.reason)
            return None
        self.canonical[column] = value
        return value

    def building(self, column: str) -> str | None:
        if self.blank(column):
            return None
        try:
            return self.places.building(self.cells[column])
        except CellError as exc:
            self.fail(column, exc.reason)
            return None

    def place(self, column: str) -> Place | None:
        return None if self.blank(column) else self.places.place(self.cells[column])

    def location(self, building_column: str = "楼栋", place_column: str = "地点") -> tuple[dict | None, str | None]:
        """The event's location object and the free text of a place that matched nothing."""
        building = self.building(building_column)
        place = self.place(place_column)
        location: dict = {}
        if place is not None and place.id is not None:
            location["id"] = place.id
            if building is not None and place.building not in (None, building):
                self.fail(place_column, f"地点属于{place.building}号楼，与楼栋“{building}号楼”不符")
            building = building or place.building
        if building is not None:
            location["building"] = building
        return (location or None), (place.text if place is not None else None)

    def parties(self, column: str, role: str, entity: str | None = None, required: bool = False) -> list[Party]:
        """The names in the cell as placeholders. `entity` None: a person unless the name reads as an
        organisation. Person cells may hold several names (、，; / or spaces between them)."""
        raw = clean_text(self.cells.get(column))
        if not raw:
            if required:
                self.fail(column, "必填项为空")
            return []
        if entity == "person":
            names = [n for n in _NAME_SEPARATORS.split(raw) if n]
        else:
            names = [compact(raw)]
        out = [Party(entity or _entity_of(n), n, role) for n in names]
        self.canonical[column] = out
        return out

    def not_before(self, column: str, moment: datetime | None, start: datetime | None,
                   start_column: str) -> datetime | None:
        """`moment`, refused when its day is before `start`'s. On the same day it is taken as no earlier
        than `start`: a date alone (09:00) on the day of a start written with a later time is after it."""
        if moment is None or start is None:
            return moment
        if moment.date() < start.date():
            self.fail(column, f"{column}早于{start_column}")
            return None
        return max(moment, start)

    def choice(self, column: str, options: dict[str, str], required: bool = False) -> str | None:
        """The code of the first option word found in the cell (options: word -> code)."""
        value = compact(self.cells.get(column))
        if not value:
            if required:
                self.fail(column, "必填项为空")
            return None
        for word, code in options.items():
            if word in value:
                self.canonical[column] = code
                return code
        words = "、".join(dict.fromkeys(options))
        self.fail(column, f"无法识别的取值“{value[:40]}”（应为 {words}）")
        return None


def _entity_of(name: str) -> str:
    return "business" if any(w in name for w in _BUSINESS_WORDS) else "person"


def code_of(text: str | None, table: dict[str, str]) -> str | None:
    """The code whose Chinese label is `text` (labels tables map code -> word), None when none is."""
    if not text:
        return None
    key = compact(text)
    for code, word in table.items():
        if compact(word) == key or code == key:
            return code
    return None
