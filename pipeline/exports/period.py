"""Week and year boundaries in the area's time zone (Asia/Shanghai by default), as UTC instants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_WEEK = re.compile(r"([0-9]{4})-W([0-9]{2})")
_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")


@dataclass(frozen=True)
class Period:
    label: str            # 2024-W45, 2024
    start: datetime       # aware, UTC, inclusive
    end: datetime         # aware, UTC, exclusive
    tz: ZoneInfo
    first_day: date       # local dates, inclusive
    last_day: date

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def week_zh(self) -> str:
        """The official style: 2024年第45周（11月4日—11月10日）."""
        from pipeline.labels import week_text

        return week_text(self.first_day)


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def iso_week(text: str, tz: ZoneInfo | str) -> Period:
    """The ISO week `YYYY-Www` (Monday 00:00 to the next Monday 00:00, local time), or the week holding the
    date `YYYY-MM-DD` (a meeting is often named by its day)."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    d = _DATE.fullmatch(text.strip())
    if d:
        try:
            return week_of(date(int(d.group(1)), int(d.group(2)), int(d.group(3))), tz)
        except ValueError:
            raise ValueError(f"no such date: {text!r}") from None
    m = _WEEK.fullmatch(text.strip())
    if not m:
        raise ValueError(f"not an ISO week or a date: {text!r} (use YYYY-Www, e.g. 2024-W45, or a day of the week, "
                         "e.g. 2024-11-06)")
    try:
        monday = date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
    except ValueError:
        raise ValueError(f"no such week: {text!r}") from None
    return week_of(monday, tz)


def week_of(day: date, tz: ZoneInfo) -> Period:
    monday = day - timedelta(days=day.isoweekday() - 1)
    year, week, _ = monday.isocalendar()
    sunday = monday + timedelta(days=6)
    return Period(f"{year}-W{week:02d}", _local_midnight(monday, tz), _local_midnight(sunday + timedelta(days=1), tz),
                  tz, monday, sunday)


def previous_week(period: Period) -> Period:
    return week_of(period.first_day - timedelta(days=7), period.tz)


def year(y: int, tz: ZoneInfo | str) -> Period:
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    if not 1900 <= y <= 9998:
        raise ValueError(f"year out of range: {y}")
    return Period(str(y), _local_midnight(date(y, 1, 1), tz), _local_midnight(date(y + 1, 1, 1), tz), tz,
                  date(y, 1, 1), date(y, 12, 31))
