"""Durations and RFC 3339 times (docs/contract.md, conventions): pipeline/timeutil.py."""

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.errors import UsageError
from pipeline.timeutil import NaiveTimestamp, duration_seconds, format_utc, parse_duration, parse_time

# --- durations -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("1s", 1),
        ("5m", 300),
        ("6h", 6 * 3600),
        ("14d", 14 * 86400),
        ("2w", 2 * 7 * 86400),
        ("365d", 365 * 86400),
    ],
)
def test_duration_accepted(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "0d",  # not positive
        "0s",
        "1.5h",  # not an integer
        "10",  # no unit
        "d",  # no number
        "-1d",  # negative
        "+1d",
        "1 d",  # space
        " 1d",
        "1d ",
        "14d\n",  # trailing newline (a `$` anchor would let it through)
        "1D",  # units are lower case
        "1y",  # no such unit
        "1ms",
        "1h30m",  # one unit only
        "١d",  # non-ASCII digit
        "",
    ],
)
def test_duration_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


@pytest.mark.parametrize("value", [None, 14, 1.5, b"14d", ["14d"]])
def test_duration_refuses_non_strings(value):
    with pytest.raises(ValueError):
        parse_duration(value)


# --- RFC 3339 parsing --------------------------------------------------------------------------------

EPOCH_2024_11_05_0130Z = datetime(2024, 11, 5, 1, 30, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize(
    ("text", "epoch"),
    [
        ("2024-11-05T01:30:00Z", EPOCH_2024_11_05_0130Z),
        ("2024-11-05T01:30:00+00:00", EPOCH_2024_11_05_0130Z),
        ("2024-11-05T01:30:00-00:00", EPOCH_2024_11_05_0130Z),
        ("2024-11-05T09:30:00+08:00", EPOCH_2024_11_05_0130Z),
        ("2024-11-04T20:00:00-05:30", EPOCH_2024_11_05_0130Z),
        ("2024-11-05T15:15:00+13:45", EPOCH_2024_11_05_0130Z),
        # RFC 3339 §5.6: "T" and "Z" may be lower case
        ("2024-11-05t01:30:00Z", EPOCH_2024_11_05_0130Z),
        ("2024-11-05T01:30:00z", EPOCH_2024_11_05_0130Z),
        ("2024-11-05t01:30:00z", EPOCH_2024_11_05_0130Z),
        ("2024-11-05t09:30:00+08:00", EPOCH_2024_11_05_0130Z),
        ("1970-01-01T00:00:00Z", 0.0),
        ("1969-12-31T23:59:59Z", -1.0),
    ],
)
def test_parse_time_offsets(text, epoch):
    dt = parse_time(text)
    assert dt.tzinfo is not None
    assert dt.timestamp() == epoch


def test_parse_time_keeps_the_offset():
    dt = parse_time("2024-11-05T09:30:00+08:00")
    assert dt.utcoffset() == timedelta(hours=8)
    assert (dt.year, dt.month, dt.day, dt.hour, dt.minute) == (2024, 11, 5, 9, 30)


@pytest.mark.parametrize(
    ("fraction", "microsecond"),
    [
        (".5", 500000),
        (".25", 250000),
        (".123", 123000),
        (".123456", 123456),
        (".1234567", 123456),  # beyond microseconds: truncated, not rounded, not refused
        (".12345678", 123456),
        (".123456789", 123456),  # nanoseconds (9 digits) are the limit
        (".999999999", 999999),
        (".000000001", 0),
    ],
)
def test_parse_time_fractions(fraction, microsecond):
    dt = parse_time(f"2024-11-05T01:30:00{fraction}Z")
    assert dt.microsecond == microsecond
    assert dt.timestamp() == pytest.approx(EPOCH_2024_11_05_0130Z + microsecond / 1e6, abs=1e-6)


@pytest.mark.parametrize(
    "text",
    ["2024-11-05T09:30:00", "2024-11-05T09:30:00.123", "2024-11-05t09:30:00", "2024-11-05T09:30:00.123456789"],
)
def test_parse_time_naive_is_refused_as_naive(text):
    with pytest.raises(NaiveTimestamp):
        parse_time(text)


def test_naive_timestamp_is_a_value_error():
    # callers that only care about "not a usable time" may catch ValueError
    assert issubclass(NaiveTimestamp, ValueError)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "yesterday",
        "2024-11-05",  # date only
        "09:30:00Z",  # time only
        "2024-11-05 09:30:00Z",  # space separator (ISO 8601 allows it, RFC 3339 §5.6 grammar does not)
        "2024-11-05T09:30Z",  # seconds are required
        "2024-11-05T09:30:00+08",  # offset needs minutes
        "2024-11-05T09:30:00+0800",  # offset needs a colon
        "2024-11-05T09:30:00+08:00:00",
        "2024-11-05T09:30:00.Z",  # empty fraction
        "2024-11-05T09:30:00.1234567890Z",  # 10 fraction digits
        "2024-11-05T09:30:00,5Z",  # comma fraction
        "2024-W45-2T09:30:00Z",  # week date
        "2024-310T09:30:00Z",  # ordinal date
        "20241105T093000Z",  # basic format
        "2024-02-30T00:00:00Z",  # no such day
        "2023-02-29T00:00:00Z",  # not a leap year
        "2024-13-01T00:00:00Z",
        "2024-00-10T00:00:00Z",
        "2024-11-05T24:00:00Z",
        "2024-11-05T23:60:00Z",
        "2024-11-05T23:59:61Z",
        "2024-11-05T09:30:00+24:00",  # offset out of range
        "2024-11-05T09:30:00+05:60",  # offset minutes out of range
        "0000-01-01T00:00:00Z",  # year 0 does not exist in Python
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC: could not be written back
        "9999-12-31T23:59:59-01:00",  # after year 9999 in UTC
        "2024-11-05T09:30:00Z\n",  # trailing newline
        " 2024-11-05T09:30:00Z",
        "２０２４-11-05T09:30:00Z",  # full-width digits
        "2024-11-05T09:30:00ZZ",
        "2024-11-05T09:30:00+08:00Z",
    ],
)
def test_parse_time_garbage_is_value_error(text):
    with pytest.raises(ValueError):
        parse_time(text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-30T00:00:00Z",
        "garbage",
        "2024-11-05T09:30:00+24:00",
        "2024-11-05 09:30:00Z",
        "0001-01-01T00:00:00+01:00",
    ],
)
def test_malformed_with_offset_is_not_naive(text):
    with pytest.raises(UsageError) as info:
        parse_time(text)
    assert not isinstance(info.value, NaiveTimestamp)


@pytest.mark.parametrize("value", [None, 1730770200, 1730770200.0, b"2024-11-05T01:30:00Z", ["2024-11-05T01:30:00Z"]])
def test_parse_time_refuses_non_strings(value):
    with pytest.raises(ValueError):
        parse_time(value)


def test_parse_time_extreme_but_valid_years():
    assert parse_time("0001-01-01T00:00:00Z").year == 1
    assert parse_time("0001-01-01T00:00:00-01:00").timestamp() == datetime(1, 1, 1, 1, tzinfo=timezone.utc).timestamp()
    assert parse_time("9999-12-31T23:59:59Z").year == 9999
    assert parse_time("2024-02-29T12:00:00+08:00").day == 29


# --- format_utc ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("epoch", "text"),
    [
        (0, "1970-01-01T00:00:00Z"),
        (0.0, "1970-01-01T00:00:00Z"),
        (EPOCH_2024_11_05_0130Z, "2024-11-05T01:30:00Z"),
        (EPOCH_2024_11_05_0130Z + 0.5, "2024-11-05T01:30:00.500000Z"),
        (EPOCH_2024_11_05_0130Z + 0.25, "2024-11-05T01:30:00.250000Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (951782400, "2000-02-29T00:00:00Z"),
        (253402300799, "9999-12-31T23:59:59Z"),
        (-62135596800, "0001-01-01T00:00:00Z"),  # the year is zero-padded to 4 digits
        (-59011459200, "0100-01-01T00:00:00Z"),
    ],
)
def test_format_utc(epoch, text):
    assert format_utc(epoch) == text


@pytest.mark.parametrize(
    "text",
    [
        "2024-11-05T09:30:00+08:00",
        "2024-11-05T01:30:00Z",
        "2024-11-04T20:00:00-05:30",
        "2024-11-05T01:30:00.250+00:00",
        "2024-11-05T01:30:00.123456789Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ],
)
def test_format_utc_round_trips_with_parse_time(text):
    out = format_utc(parse_time(text).timestamp())
    assert out.endswith("Z")
    assert "+" not in out
    assert parse_time(out) == parse_time(text)
    assert parse_time(out).utcoffset() == timedelta(0)
