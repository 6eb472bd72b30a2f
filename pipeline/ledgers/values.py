"""Cell values as offices type them: dates, numbers and text (docs/contract.md §10).

Every parser takes what pandas read from a cell (str, int, float, datetime, Timestamp, NaN or None) and
returns the value or raises CellError with a reason in Chinese, which the row reader reports with the
sheet, row and column. Text is NFKC-normalised first, so full-width digits, colons and slashes count as
their ASCII forms.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

# A date alone means the working morning; a deadline means the whole day (docs/contract.md §10).
DEFAULT_TIME = time(9, 0)
END_OF_DAY = time(23, 59, 59)

_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:\s*T?\s*(?P<H>\d{1,2})\s*[:时点]\s*(?P<M>\d{1,2})?\s*(?:[:分]\s*(?P<S>\d{1,2})?\s*秒?)?)?"
)
_NUMBER = re.compile(r"[+]?(\d+(?:\.\d+)?|\.\d+)")
# Unit suffixes an office writes after a figure; the column says what is counted, so they carry nothing.
_UNITS = ("人次", "元", "人", "次")


class CellError(ValueError):
    """A cell that cannot be read; `reason` is the Chinese sentence shown to the office."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def is_blank(value: object) -> bool:
    kind = type(value)
    if kind is str:
        return not value.strip()  # type: ignore[attr-defined]
    if kind is float:
        return value != value      # NaN
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    # pandas' NaT and NA say they are missing by comparing unequal to themselves
    return value != value


def clean_text(value: object) -> str:
    """The cell as text: NFKC, trimmed (full-width spaces included), inner runs of space made one."""
    if type(value) is str:
        return _clean_str(value)
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(unicodedata.normalize("NFKC", str(value)).split())


@functools.lru_cache(maxsize=1 << 16)
def _clean_str(value: str) -> str:
    # cached: a ledger repeats most of its words; ASCII needs no NFKC
    text = value if value.isascii() else unicodedata.normalize("NFKC", value)
    return " ".join(text.split())


def compact(value: object) -> str:
    """The cell as text without any space: how header cells, names and buildings are compared."""
    return "".join(clean_text(value).split())


@functools.lru_cache(maxsize=1 << 16)
def parse_date(value: object, tz: ZoneInfo, *, end_of_day: bool = False) -> datetime:
    """An aware datetime in `tz`. A date without a time is 09:00, or 23:59:59 with `end_of_day`.
    Cached: a ledger repeats its dates many times (a failure is not cached and raises again)."""
    if isinstance(value, datetime):   # pandas Timestamp is a datetime too
        stamp = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
        if stamp.tzinfo is not None:
            return stamp.astimezone(tz)
        # an Excel date cell has no time part: it reads as midnight
        if stamp.time() == time(0, 0):
            return _at(stamp.date(), None, tz, end_of_day)
        return stamp.replace(tzinfo=tz)
    if isinstance(value, date):
        return _at(value, None, tz, end_of_day)
    text = clean_text(value)
    if not text:
        raise CellError("日期为空")
    m = _DATE.fullmatch(text)
    if m is None:
        raise CellError(f"无法识别的日期“{text[:40]}”（可写作 2024-03-05、2024/3/5、2024.3.5 或 2024年3月5日）")
    try:
        day = date(int(m["y"]), int(m["m"]), int(m["d"]))
        clock = None
        if m["H"] is not None:
            clock = time(int(m["H"]), int(m["M"] or 0), int(m["S"] or 0))
    except ValueError:
        raise CellError(f"不存在的日期或时间“{text[:40]}”") from None
    return _at(day, clock, tz, end_of_day)


def _at(day: date, clock: time | None, tz: ZoneInfo, end_of_day: bool) -> datetime:
    if clock is None:
        clock = END_OF_DAY if end_of_day else DEFAULT_TIME
    return datetime.combine(day, clock, tzinfo=tz)


@functools.lru_cache(maxsize=1 << 16)
def parse_number(value: object) -> int | float:
    """A non-negative figure: full-width digits, thousands separators and a unit suffix allowed (cached)."""
    if isinstance(value, bool):
        raise CellError("应为数字")
    if isinstance(value, (int, float)) and not is_blank(value):
        number: float = float(value)
    else:
        text = compact(value).replace(",", "")
        for unit in _UNITS:
            if text.endswith(unit):
                text = text[: -len(unit)]
                break
        if not _NUMBER.fullmatch(text):
            raise CellError(f"应为数字，实为“{clean_text(value)[:40]}”")
        number = float(text)
    if number < 0 or math.isinf(number) or math.isnan(number):
        raise CellError("数字不能为负数")
    return int(number) if number.is_integer() else round(number, 2)
