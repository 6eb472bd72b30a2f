"""The event contract (docs/contract.md §1), example by example: every reason code with its exact string."""

import copy
from datetime import datetime, timezone
from pathlib import Path

import orjson
import pytest

from pipeline.contract import (
    GUARDED_ATTRIBUTES,
    MAX_MESSAGE_BYTES,
    Event,
    Rejection,
    load_vocabulary,
    parse_event,
)

VOCAB = load_vocabulary(Path(__file__).resolve().parents[2] / "config" / "vocabulary.yaml")

REQUIRED = ("event_id", "kind", "type", "occurred_at", "source")

MINIMAL = {
    "event_id": "e-1",
    "kind": "dispute",
    "type": "reported",
    "occurred_at": "2024-11-05T09:30:00+08:00",
    "source": "mediation",
}
FULL = {
    **MINIMAL,
    "reported_at": "2024-11-05T09:35:00+08:00",
    "location": {"id": "HD-1-1203", "building": "1", "floor": 12, "unit": "1203", "checkpoint": "CP-1-03"},
    "subjects": [
        {"type": "person", "id": "P-0007", "role": "party"},
        {"type": "business", "id": "B-0042", "role": "respondent"},
    ],
    "severity": 3,
    "tags": ["threat_of_violence", "noise"],
    "attributes": {"households": 2, "ratio": 0.5, "repeat": True, "note": "x", "codes": ["a", 1, 2.5, False]},
    "text": "双方因噪音发生争执",
}
T_0130Z = datetime(2024, 11, 5, 1, 30, tzinfo=timezone.utc).timestamp()  # 1730770200.0


def event(**changes):
    """FULL with changes applied; a value of DROP removes the field."""
    doc = copy.deepcopy(FULL)
    for key, value in changes.items():
        if value is DROP:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc


DROP = object()


def parse(doc, **kw):
    return parse_event(orjson.dumps(doc), VOCAB, **kw)


def reason(doc, **kw):
    result = parse(doc, **kw)
    assert isinstance(result, Rejection), f"accepted: {result!r}"
    return result.reason


def accepted(doc, **kw) -> Event:
    result = parse(doc, **kw)
    assert isinstance(result, Event), f"rejected: {result!r}"
    return result


# --- accepted events -----------------------------------------------------------------------------------


def test_minimal_event_is_accepted():
    ev = accepted(MINIMAL)
    assert (ev.event_id, ev.kind, ev.type) == ("e-1", "dispute", "reported")
    assert ev.t == T_0130Z == 1730770200.0
    assert ev.doc == MINIMAL


def test_full_event_is_accepted_unchanged():
    ev = accepted(FULL)
    assert ev.doc == FULL
    assert ev.t == T_0130Z


@pytest.mark.parametrize(
    ("occurred_at", "epoch"),
    [
        ("2024-11-05T01:30:00Z", 1730770200.0),
        ("2024-11-05T01:30:00z", 1730770200.0),
        ("2024-11-05t01:30:00Z", 1730770200.0),
        ("2024-11-05T09:30:00+08:00", 1730770200.0),
        ("2024-11-04T20:00:00-05:30", 1730770200.0),
        ("2024-11-05T01:30:00.5Z", 1730770200.5),
        ("2024-11-05T09:30:00.250+08:00", 1730770200.25),
        ("2024-11-05T01:30:00.123456Z", 1730770200.123456),
        ("2024-11-05T01:30:00.123456789Z", 1730770200.123456),
        ("1970-01-01T00:00:00Z", 0.0),
        ("2000-02-29T00:00:00Z", 951782400.0),
    ],
)
def test_accepted_times_and_epoch_seconds(occurred_at, epoch):
    ev = accepted(event(occurred_at=occurred_at))
    assert isinstance(ev.t, float)
    assert ev.t == pytest.approx(epoch, abs=1e-6)


def test_str_input_is_accepted_like_bytes():
    ev = parse_event(orjson.dumps(FULL).decode("utf-8"), VOCAB)
    assert isinstance(ev, Event)
    assert ev.doc == FULL


def test_every_vocabulary_pair_is_accepted():
    for kind, types in VOCAB.kinds.items():
        for type_ in types:
            ev = accepted(event(kind=kind, type=type_))
            assert (ev.kind, ev.type) == (kind, type_)


def test_default_vocabulary_matches_spec():
    assert VOCAB.kinds == {
        "patrol": {"patrol_started", "checkpoint_visit", "issue_found", "patrol_finished"},
        "monitoring": {
            "smoke_alarm",
            "gas_alarm",
            "ebike_indoor_charging",
            "fire_exit_blocked",
            "access_forced",
            "crowd_gathering",
            "water_leak",
            "device_offline",
        },
        "dispute": {"reported", "mediation_held", "escalated", "referred", "resolved"},
        "hazard": {"found", "rectified", "verified", "reopened"},
        "inspection": {"unit_inspected", "task_published", "task_completed"},
        "enforcement": {"warning_issued", "penalty_issued"},
        "outreach": {"publicity_session"},
        "petition": {"received", "replied"},
    }


def test_optional_fields_may_be_empty_collections():
    accepted(event(subjects=[], tags=[], attributes={}, location={}, text=""))


def test_whitespace_around_the_document_is_fine():
    raw = b" \n\t" + orjson.dumps(FULL) + b"\r\n"
    assert isinstance(parse_event(raw, VOCAB), Event)


# --- invalid_json ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b" ",
        b"{",
        b"}",
        b"{'event_id': 'e-1'}",  # single quotes
        b'{"event_id": "e-1",}',  # trailing comma
        b'{"event_id": e-1}',
        b'{"severity": NaN}',
        b'{"severity": Infinity}',
        b"nul",
        b"{} {}",  # two documents
        b"{}\x00",
        b'{"a": 1}\n{"b": 2}',
        b"\xef\xbb\xbf{}",  # BOM
        b"\xff\xfe{\x00}\x00",  # UTF-16
        b'{"text": "\xff"}',  # invalid UTF-8 inside a string
        b'{"text": "\xc3"}',  # truncated multi-byte sequence
        b'{"text": "\xed\xa0\x80"}',  # UTF-8-encoded surrogate
        b'{"text": "\\ud800"}',  # escaped lone surrogate
        b"\x80\x81\x82",
        b'{"severity": 1e400}',  # infinity when parsed as a double
        b"[" * 1025 + b"]" * 1025,  # deeper than the parser allows
    ],
)
def test_invalid_json(raw):
    result = parse_event(raw, VOCAB)
    assert result == Rejection("invalid_json", None)
    assert result.reason == "invalid_json"
    assert result.event_id is None


@pytest.mark.parametrize("cut", [1, 2, 10, 50, 100, 200])
def test_truncated_event_is_invalid_json(cut):
    raw = orjson.dumps(FULL)
    result = parse_event(raw[:-cut], VOCAB)
    assert result.reason == "invalid_json"
    assert result.event_id is None


def test_str_with_lone_surrogate_is_invalid_json():
    result = parse_event('{"event_id": "e-1", "text": "\ud800"}', VOCAB)
    assert result.reason == "invalid_json"


# --- not_an_object --------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [b"[]", b"[1, 2]", b"1", b"-1.5", b'"string"', b"null", b"true", b"false"])
def test_not_an_object(raw):
    result = parse_event(raw, VOCAB)
    assert result.reason == "not_an_object"
    assert result.event_id is None


def test_list_of_events_is_not_an_object():
    assert parse_event(orjson.dumps([FULL]), VOCAB).reason == "not_an_object"


# --- too_large ------------------------------------------------------------------------------------------


def _padded(size: int) -> bytes:
    raw = orjson.dumps(FULL)
    return raw + b" " * (size - len(raw))


def test_max_message_bytes_is_64_kib():
    assert MAX_MESSAGE_BYTES == 65536


def test_exactly_64_kib_valid_is_accepted():
    raw = _padded(65536)
    assert len(raw) == 65536
    assert isinstance(parse_event(raw, VOCAB), Event)


def test_one_byte_more_is_too_large():
    raw = _padded(65537)
    result = parse_event(raw, VOCAB)
    assert result.reason == "too_large"
    assert result.event_id is None  # not parsed at all


def test_too_large_is_checked_before_json():
    assert parse_event(b"\xff" * 65537, VOCAB).reason == "too_large"
    assert parse_event(b"\xff" * 65536, VOCAB).reason == "invalid_json"


def test_too_large_counts_utf8_bytes_of_str_input():
    # 中 is 3 bytes in UTF-8: fewer than 64 Ki characters, more than 64 KiB
    s = orjson.dumps(event(text="中" * 4000)).decode("utf-8")
    big = s + " " * (60000 - len(s))
    assert len(big) < 65536 < len(big.encode("utf-8"))
    assert parse_event(big, VOCAB).reason == "too_large"
    assert isinstance(parse_event(s, VOCAB), Event)


# --- missing_field --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REQUIRED)
def test_missing_required_field(name):
    assert reason(event(**{name: DROP})) == f"missing_field:{name}"
    assert reason({k: v for k, v in MINIMAL.items() if k != name}) == f"missing_field:{name}"


def test_missing_fields_reported_in_spec_order():
    assert reason({}) == "missing_field:event_id"
    assert reason({"source": "x", "type": "reported"}) == "missing_field:event_id"
    assert reason({"event_id": "e-1", "occurred_at": "2024-11-05T01:30:00Z"}) == "missing_field:kind"


def test_null_required_field_is_invalid_not_missing():
    assert reason(event(source=None)) == "invalid_field:source"
    assert reason(event(occurred_at=None)) == "invalid_field:occurred_at"


# --- invalid_field --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["", "a b", "e/1", "e#1", "中", "e-１", "e-1\n", "x" * 129, 1, 1.5, True, None, ["e-1"], {"id": "e-1"}],
)
def test_invalid_event_id(value):
    assert reason(event(event_id=value)) == "invalid_field:event_id"


@pytest.mark.parametrize("value", ["x", "x" * 128, "A-Za_z.0:9", "2024:patrol-app:00012", "..--::__"])
def test_valid_event_id(value):
    assert accepted(event(event_id=value)).event_id == value


@pytest.mark.parametrize("field", ["kind", "type"])
@pytest.mark.parametrize("value", [1, None, True, ["dispute"], {"k": "v"}])
def test_invalid_kind_and_type(field, value):
    assert reason(event(**{field: value})) == f"invalid_field:{field}"


@pytest.mark.parametrize("value", ["", "x" * 65, 42, None, ["patrol-app"]])
def test_invalid_source(value):
    assert reason(event(source=value)) == "invalid_field:source"


@pytest.mark.parametrize("value", ["x", "x" * 64, "patrol-app", "巡逻APP"])
def test_valid_source(value):
    accepted(event(source=value))


@pytest.mark.parametrize("field", ["occurred_at", "reported_at"])
@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "",
        "2024-02-30T00:00:00Z",
        "2024-11-05 09:30:00+08:00",
        "2024-11-05T09:30:00+0800",
        "2024-11-05",
        1730770200,
        1730770200.0,
        None,
        ["2024-11-05T01:30:00Z"],
        {"at": "2024-11-05T01:30:00Z"},
    ],
)
def test_invalid_times(field, value):
    assert reason(event(**{field: value})) == f"invalid_field:{field}"


@pytest.mark.parametrize("value", [0, 6, -1, 100, True, False, 3.0, 2.5, "3", None, [3]])
def test_invalid_severity(value):
    assert reason(event(severity=value)) == "invalid_field:severity"


@pytest.mark.parametrize("value", [1, 2, 3, 4, 5])
def test_valid_severity(value):
    accepted(event(severity=value))


@pytest.mark.parametrize(
    "value",
    [
        ["t"] * 21,
        ["x" * 65],
        ["ok", "x" * 65],
        [""],
        [1],
        [None],
        [["nested"]],
        "threat_of_violence",
        {"t": 1},
        None,
    ],
)
def test_invalid_tags(value):
    assert reason(event(tags=value)) == "invalid_field:tags"


def test_tag_limits_are_inclusive():
    accepted(event(tags=[f"t{i}" for i in range(20)]))
    accepted(event(tags=["x" * 64]))
    accepted(event(tags=["中" * 64]))


def _subject(**changes):
    s = {"type": "person", "id": "P-0007", "role": "party"}
    s.update(changes)
    return {k: v for k, v in s.items() if v is not DROP}


@pytest.mark.parametrize(
    "value",
    [
        [_subject()] * 21,
        "P-0007",
        {"type": "person", "id": "P-0007", "role": "party"},
        None,
        ["P-0007"],
        [None],
        [_subject(type="animal")],
        [_subject(type="Person")],
        [_subject(type=None)],
        [_subject(id="张三")],  # a name, not a pseudonymous key
        [_subject(id="John Smith")],
        [_subject(id="P 0007")],
        [_subject(id="")],
        [_subject(id=7)],
        [_subject(id="x" * 65)],
        [_subject(role="")],
        [_subject(role=1)],
        [_subject(role=DROP)],
        [_subject(id=DROP)],
        [_subject(type=DROP)],
        [_subject(name="张三")],  # extra key
        [_subject(), _subject(id="李 四")],
    ],
)
def test_invalid_subjects(value):
    assert reason(event(subjects=value)) == "invalid_field:subjects"


def test_subject_limits():
    accepted(event(subjects=[_subject(id=f"P-{i:04d}") for i in range(20)]))
    accepted(event(subjects=[_subject(id="x" * 64, role="当事人")]))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("HD-1-1203", "invalid_field:location"),
        (["HD-1-1203"], "invalid_field:location"),
        (None, "invalid_field:location"),
        ({"floor": "12"}, "invalid_field:location.floor"),
        ({"floor": 12.0}, "invalid_field:location.floor"),
        ({"floor": True}, "invalid_field:location.floor"),
        ({"floor": None}, "invalid_field:location.floor"),
        ({"id": 1203}, "invalid_field:location.id"),
        ({"id": ""}, "invalid_field:location.id"),
        ({"building": None}, "invalid_field:location.building"),
        ({"unit": ["1203"]}, "invalid_field:location.unit"),
        ({"checkpoint": {"id": "CP"}}, "invalid_field:location.checkpoint"),
        ({"room": "1203"}, "invalid_field:location"),
    ],
)
def test_invalid_location(value, code):
    assert reason(event(location=value)) == code


@pytest.mark.parametrize("floor", [-2, 0, 1, 12, 99])
def test_valid_floor(floor):
    accepted(event(location={"id": "HD-1", "floor": floor}))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ({f"k{i}": i for i in range(51)}, "invalid_field:attributes"),
        ("x", "invalid_field:attributes"),
        (["a", "b"], "invalid_field:attributes"),
        (None, "invalid_field:attributes"),
        ({"k": None}, "invalid_field:attributes.k"),
        ({"k": {"nested": 1}}, "invalid_field:attributes.k"),
        ({"k": [{"nested": 1}]}, "invalid_field:attributes.k"),
        ({"k": [[1, 2]]}, "invalid_field:attributes.k"),
        ({"k": [None]}, "invalid_field:attributes.k"),
        ({"k": "x" * 4001}, "invalid_field:attributes.k"),
        ({"ok": 1, "bad": {}}, "invalid_field:attributes.bad"),
    ],
)
def test_invalid_attributes(value, code):
    assert reason(event(attributes=value)) == code


def test_attribute_limits():
    accepted(event(attributes={f"k{i}": i for i in range(50)}))
    accepted(event(attributes={"s": "x" * 4000, "l": ["a", 1, 1.5, True], "f": -0.0, "b": False, "empty": []}))


@pytest.mark.parametrize("value", ["x" * 4001, 1, None, ["note"]])
def test_invalid_text(value):
    assert reason(event(text=value)) == "invalid_field:text"


def test_text_limit():
    accepted(event(text="x" * 4000))
    accepted(event(text="中" * 4000))


def test_invalid_fields_reported_in_spec_order():
    doc = event(event_id="bad id", source="", severity=9, tags="x")
    assert reason(doc) == "invalid_field:event_id"
    doc = event(source="", severity=9, tags="x")
    assert reason(doc) == "invalid_field:source"
    doc = event(severity=9, tags="x", text=1)
    assert reason(doc) == "invalid_field:severity"


# --- unknown_field --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["foo", "Event_id", "eventId", "occurredAt", "location.id", "id", "name"])
def test_unknown_field(name):
    assert reason(event(**{name: 1})) == f"unknown_field:{name}"


def test_unknown_field_first_in_sorted_order_and_before_missing():
    assert reason({"zeta": 1, "alpha": 2}) == "unknown_field:alpha"
    assert reason({**MINIMAL, "b": 1, "a": None}) == "unknown_field:a"


@pytest.mark.parametrize(
    ("key", "code"),
    [
        ("", "unknown_field:''"),
        ("a\nb", "unknown_field:'a\\nb'"),
        ("\x00", "unknown_field:'\\x00'"),
        ("x" * 35000, "unknown_field:" + "x" * 64),
    ],
)
def test_unknown_field_names_are_made_safe_for_a_reason_code(key, code):
    # the name is client-supplied: empty, control characters and huge names must not reach logs verbatim
    assert reason({**MINIMAL, key: 1}) == code


# --- unknown_kind / unknown_type --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["weather", "", "Dispute", "DISPUTE", " dispute", "disputes"])
def test_unknown_kind(kind):
    assert reason(event(kind=kind)) == "unknown_kind"


@pytest.mark.parametrize(
    ("kind", "type_"),
    [
        ("dispute", "smoke_alarm"),  # a type of another kind
        ("monitoring", "reported"),
        ("patrol", "received"),
        ("petition", "found"),
        ("dispute", "Reported"),
        ("dispute", ""),
        ("dispute", "nonsense"),
    ],
)
def test_unknown_type(kind, type_):
    assert reason(event(kind=kind, type=type_)) == "unknown_type"


def test_unknown_kind_before_type_check():
    assert reason(event(kind="weather", type=5)) == "unknown_kind"


# --- naive_timestamp ------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["occurred_at", "reported_at"])
@pytest.mark.parametrize("value", ["2024-11-05T09:30:00", "2024-11-05T09:30:00.250", "2024-11-05t09:30:00"])
def test_naive_timestamp(field, value):
    result = parse(event(**{field: value}))
    assert result.reason == "naive_timestamp"
    assert result.event_id == "e-1"


# --- future_timestamp -----------------------------------------------------------------------------------


def test_future_timestamp_in_every_mode():
    doc = event(occurred_at="2099-01-01T00:00:00Z")
    assert parse(doc).reason == "future_timestamp"  # no clock given: the wall clock when read
    assert parse(event(occurred_at="9999-12-31T23:59:59Z")).reason == "future_timestamp"
    result = parse(doc, now=T_0130Z)
    assert result.reason == "future_timestamp"
    assert result.event_id == "e-1"


def test_future_timestamp_skew_boundary():
    doc = event(occurred_at="2024-11-05T01:35:00Z")  # 300 s after T_0130Z
    assert isinstance(parse(doc, now=T_0130Z), Event)  # exactly the skew: accepted
    assert parse(doc, now=T_0130Z - 1).reason == "future_timestamp"  # 301 s ahead
    assert isinstance(parse(doc, now=T_0130Z + 10_000), Event)  # past events are fine
    assert isinstance(parse(doc, now=T_0130Z - 1, max_skew=301.0), Event)
    assert parse(doc, now=T_0130Z, max_skew=0.0).reason == "future_timestamp"


def test_within_skew_is_accepted():
    doc = event(occurred_at="2024-11-05T01:32:00Z")
    assert isinstance(parse(doc, now=T_0130Z), Event)


def test_other_errors_win_over_future_timestamp():
    doc = event(occurred_at="2099-01-01T00:00:00Z", severity=9)
    assert parse(doc, now=T_0130Z).reason == "invalid_field:severity"


# --- guardrail attributes -------------------------------------------------------------------------------


def test_guarded_attributes_are_the_spec_list():
    assert GUARDED_ATTRIBUTES == {
        "ethnicity",
        "religion",
        "political_affiliation",
        "party_membership",
        "sexual_orientation",
        "health",
        "disability",
        "union_membership",
    }


def test_religion_attribute_is_rejected():
    result = parse(event(attributes={"religion": "x"}))
    assert result.reason == "invalid_field:attributes.religion"
    assert result.event_id == "e-1"


@pytest.mark.parametrize("name", sorted(GUARDED_ATTRIBUTES))
@pytest.mark.parametrize("value", ["x", 1, True, ["a", "b"], None, {"nested": 1}])
def test_every_guarded_attribute_is_rejected(name, value):
    assert reason(event(attributes={"households": 2, name: value})) == f"invalid_field:attributes.{name}"


@pytest.mark.parametrize("name", sorted(GUARDED_ATTRIBUTES))
def test_guarded_attribute_in_any_case_is_rejected(name):
    for variant in (name.upper(), name.title(), name.capitalize()):
        assert reason(event(attributes={variant: "x"})) == f"invalid_field:attributes.{variant}"


def test_guarded_name_elsewhere_is_not_an_attribute():
    # the guardrail is about stored event attributes; a tag or a note mentioning the word is not one
    accepted(event(tags=["religion"], text="religion"))
    assert reason(event(religion="x")) == "unknown_field:religion"


# --- event_id read back in rejections --------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc",
    [
        event(severity=0),
        event(kind="weather"),
        event(type="smoke_alarm"),
        event(occurred_at="2024-11-05T09:30:00"),
        event(attributes={"religion": "x"}),
        event(source=DROP),
        event(tags=None),
    ],
)
def test_rejection_carries_readable_event_id(doc):
    result = parse(doc)
    assert isinstance(result, Rejection)
    assert result.event_id == "e-1"


def test_rejection_carries_event_id_with_unknown_field():
    assert parse(event(extra=1)) == Rejection("unknown_field:extra", "e-1")


@pytest.mark.parametrize(
    "doc",
    [
        event(event_id=DROP),
        event(event_id=None),
        event(event_id=17),
        event(event_id="has space"),
        event(event_id="x" * 129),
        event(event_id=["e-1"]),
    ],
)
def test_rejection_without_readable_event_id(doc):
    result = parse(doc)
    assert isinstance(result, Rejection)
    assert result.event_id is None


def test_attribute_key_in_reason_is_made_safe():
    assert reason(event(attributes={"a\nb": None})) == "invalid_field:attributes.'a\\nb'"
    assert reason(event(attributes={"": None})) == "invalid_field:attributes.''"
    assert reason(event(attributes={"k" * 100: None})) == "invalid_field:attributes." + "k" * 64


def test_times_out_of_range_in_utc_are_invalid_not_accepted():
    # locally valid, but before year 1 / after year 9999 in UTC: output could not write them
    assert reason(event(occurred_at="0001-01-01T00:00:00+01:00")) == "invalid_field:occurred_at"
    assert reason(event(reported_at="9999-12-31T23:59:59-01:00")) == "invalid_field:reported_at"
    accepted(event(occurred_at="0001-01-01T00:00:00Z"))
    # the last representable instant is a valid time, refused only for being in the future
    assert reason(event(occurred_at="9999-12-31T23:59:59Z")) == "future_timestamp"
    accepted(event(occurred_at="9999-12-31T23:59:59Z"), now=253402300799.0)


def test_duplicate_keys_last_one_wins():
    raw = b'{"event_id":"e-1","kind":"dispute","type":"reported","occurred_at":"2024-11-05T01:30:00Z",' \
          b'"source":"a","severity":9,"severity":2}'
    assert isinstance(parse_event(raw, VOCAB), Event)
