"""The msgspec fast path never accepts what the careful validator refuses, and agrees on the time."""

import copy
from pathlib import Path

import orjson
import pytest

from pipeline.contract import Event, Rejection, load_vocabulary, parse_event, validate_object
from pipeline.event_schema import fast_check

VOCAB = load_vocabulary(Path(__file__).resolve().parents[2] / "config" / "vocabulary.yaml")
BASE = {
    "event_id": "e-1",
    "kind": "dispute",
    "type": "reported",
    "occurred_at": "2024-11-05T09:30:00+08:00",
    "source": "mediation",
    "location": {"id": "HD-1-1203", "building": "1", "floor": 12},
    "subjects": [{"type": "person", "id": "P-0007", "role": "party"}],
    "attributes": {"case_id": "MD-1", "n": 2, "codes": ["a", 1, True]},
}


def fast(doc_or_raw):
    raw = doc_or_raw if isinstance(doc_or_raw, bytes) else orjson.dumps(doc_or_raw)
    checked = fast_check(raw, VOCAB.kinds)
    return None if checked is None else checked[1]


def with_(**changes):
    doc = copy.deepcopy(BASE)
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    "occurred_at", ["2024-11-05T09:30:00+08:00", "2024-11-05t01:30:00z", "2024-11-05T01:30:00.25Z", "2024-11-05T09:30:00-00:00"]
)
def test_valid_events_take_the_fast_path_with_the_careful_time(occurred_at):
    t = fast(with_(occurred_at=occurred_at))
    assert t is not None
    careful = validate_object(with_(occurred_at=occurred_at), VOCAB)
    assert isinstance(careful, Event) and careful.t == t


@pytest.mark.parametrize(
    "occurred_at",
    [
        "2024-11-05 09:30:00+08:00",  # space separator: msgspec accepts it, RFC 3339 as we read it does not
        "2024-11-05T09:30:00.123456789+08:00",  # nanoseconds: msgspec rounds, the contract truncates
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "2024-11-05T09:30:00",  # naive
    ],
)
def test_unusual_times_are_left_to_the_careful_validator(occurred_at):
    assert fast(with_(occurred_at=occurred_at)) is None
    result = parse_event(orjson.dumps(with_(occurred_at=occurred_at)), VOCAB)
    careful = validate_object(with_(occurred_at=occurred_at), VOCAB)
    assert type(result) is type(careful)
    if isinstance(result, Event):
        assert result.t == careful.t
    else:
        assert result.reason == careful.reason


@pytest.mark.parametrize(
    "doc",
    [
        with_(event_id="e-1\n"),
        with_(kind="weather"),
        with_(type="found"),
        with_(attributes={"Religion": "x"}),
        with_(attributes={"x": None}),
        with_(severity=True),
        with_(severity=3.0),
        with_(tags=[""]),
        with_(subjects=[{"type": "person", "id": "张三", "role": "party"}]),
        with_(location={"id": "HD-1", "floor": "12"}),
        with_(text=None),
    ],
)
def test_invalid_events_never_take_the_fast_path(doc):
    assert fast(doc) is None
    result = parse_event(orjson.dumps(doc), VOCAB)
    assert isinstance(result, Rejection)


def test_duplicate_keys_are_judged_on_the_value_that_is_kept():
    raw = b'{"event_id":"e-1","kind":"patrol","type":"checkpoint_visit","source":"s",' \
          b'"occurred_at":"2024-11-05T09:30:00+08:00","severity":9,"severity":3}'
    result = parse_event(raw, VOCAB)
    careful = validate_object(orjson.loads(raw), VOCAB)
    assert type(result) is type(careful)
