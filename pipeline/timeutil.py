"""Durations (`90s`, `14d`) and RFC 3339 times as docs/contract.md defines them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import overload

from pipeline.errors import NaiveTimestamp, UsageError

_DURATION = re.compile(r"([0-9]+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# RFC 3339: date 'T' time, optional fraction, then Z or ±hh:mm. fromisoformat alone accepts more
# (naive times, week dates, spaces), so the shape is checked first. fullmatch, not `$`, so that a
# trailing newline is refused; ASCII digits only; offset minutes 00-59.
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-5][0-9])?"
)


def parse_duration(text: str) -> timedelta:
    m = _DURATION.fullmatch(text) if isinstance(text, str) else None
    if not m or int(m.group(1)) <= 0:
        raise UsageError(f"not a duration (use <positive integer><s|m|h|d|w>, e.g. 14d): {text!r}")
    return timedelta(seconds=int(m.group(1)) * _UNIT_SECONDS[m.group(2)])


def duration_seconds(text: str) -> float:
    return parse_duration(text).total_seconds()


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 time with offset; raise NaiveTimestamp without one, UsageError when malformed."""
    m = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if not m:
        raise UsageError(f"not an RFC 3339 time: {text!r}")
    if m.group(2) is None:
        raise NaiveTimestamp(f"timestamp without offset: {text!r}")
    frac = m.group(1)
    if frac and len(frac) > 7:
        # Python keeps microseconds; nanosecond inputs are truncated rather than refused.
        text = text[: m.start(1) + 7] + text[m.end(1):]
    # RFC 3339 allows lower-case t and z; datetime.fromisoformat (3.11) refuses a lower-case z.
    try:
        dt = datetime.fromisoformat(text.upper())
    except ValueError as exc:  # e.g. February 30th, or an offset of 24 hours
        raise UsageError(f"not an RFC 3339 time: {text!r} ({exc})") from None
    if dt.year == 1 or dt.year == 9999:
        try:
            dt.astimezone(timezone.utc)
        except OverflowError:
            # e.g. 0001-01-01T00:00:00+01:00 lies before year 1 in UTC: format_utc could not write it
            raise UsageError(f"time out of range in UTC: {text!r}") from None
    return dt


def to_epoch(dt: datetime) -> float:
    return dt.timestamp()


def format_utc(epoch: float) -> str:
    """UTC with Z, whole seconds unless there is a fraction."""
    dt = datetime.fromtimestamp(epoch, tz=timezone.utc)
    # isoformat pads the year to 4 digits (strftime's %Y does not on glibc: year 1 gave "1-01-01...").
    return dt.replace(tzinfo=None).isoformat() + "Z"


def format_duration(seconds: float) -> str:
    """The largest exact unit up to days, as rules are written: 1209600 -> '14d', 5400 -> '90m'."""
    for unit in ("d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


@overload
def aware(at: datetime) -> datetime: ...
@overload
def aware(at: None) -> None: ...
def aware(at: datetime | None) -> datetime | None:
    """A time read back from the database as an aware datetime: SQLite returns the stored UTC
    without its zone, PostgreSQL an aware value (returned as it is)."""
    if at is None:
        return None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)
