"""Durations (`90s`, `14d`) and RFC 3339 times as the SPEC defines them."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

_DURATION = re.compile(r"^([0-9]+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# RFC 3339: date 'T' time, optional fraction, then Z or ±hh:mm. fromisoformat alone accepts more
# (naive times, week dates, spaces), so the shape is checked first.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})?$"
)


class NaiveTimestamp(ValueError):
    """A timestamp without a UTC offset."""


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text) if isinstance(text, str) else None
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"not a duration (use <positive integer><s|m|h|d|w>, e.g. 14d): {text!r}")
    return timedelta(seconds=int(m.group(1)) * _UNIT_SECONDS[m.group(2)])


def duration_seconds(text: str) -> float:
    return parse_duration(text).total_seconds()


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 time with offset; raise NaiveTimestamp without one, ValueError when malformed."""
    m = _RFC3339.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    if m.group(2) is None:
        raise NaiveTimestamp(f"timestamp without offset: {text!r}")
    frac = m.group(1)
    if frac and len(frac) > 7:
        # Python keeps microseconds; nanosecond inputs are truncated rather than refused.
        text = text[: m.start(1) + 7] + text[m.end(1):]
    return datetime.fromisoformat(text)


def to_epoch(dt: datetime) -> float:
    return dt.timestamp()


def format_utc(epoch: float) -> str:
    """UTC with Z, whole seconds unless there is a fraction."""
    dt = datetime.fromtimestamp(epoch, tz=timezone.utc)
    if dt.microsecond:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
