"""The event contract (docs/contract.md §1): one message in, an accepted Event or a Rejection with a reason code out.

Validation is hand-written rather than a pydantic model because it sits on the hot path of replay and
the stream (a pydantic model costs several times more per event) and because the reason codes are a
contract: the first problem found, in the contract's field order, decides the code.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.config_errors import ConfigError, ConfigIssue, issues_from_validation_error, load_yaml_mapping
from pipeline.event_schema import fast_check
from pipeline.persons.ids import is_person_id
from pipeline.protected import is_protected_attribute
from pipeline.timeutil import NaiveTimestamp, parse_time

MAX_MESSAGE_BYTES = 64 * 1024

# The guardrail list as docs/contract.md §3 names it (PIPL art. 28 sensitive information). What is
# refused is decided by pipeline.protected.is_protected_attribute, which also catches Chinese and
# disguised spellings of these; not configurable.
GUARDED_ATTRIBUTES = frozenset(
    {
        "ethnicity",
        "religion",
        "political_affiliation",
        "party_membership",
        "sexual_orientation",
        "health",
        "disability",
        "union_membership",
    }
)

REQUIRED_FIELDS = ("event_id", "kind", "type", "occurred_at", "source")
OPTIONAL_FIELDS = ("reported_at", "location", "subjects", "severity", "tags", "attributes", "text")
ALLOWED_FIELDS = frozenset(REQUIRED_FIELDS + OPTIONAL_FIELDS)
FIELD_ORDER = {name: i for i, name in enumerate(REQUIRED_FIELDS + OPTIONAL_FIELDS)}

_EVENT_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_LOCATION_STRINGS = ("id", "building", "unit", "checkpoint")
_SUBJECT_TYPES = ("person", "business")
_MAX_LOCATION_STRING = 128
_MAX_SUBJECTS = 20
_MAX_TAGS = 20
_MAX_TAG_CHARS = 64
_MAX_ATTRIBUTES = 50
_MAX_ATTRIBUTE_STRING = 4000
_MAX_TEXT = 4000
# Control characters, line and paragraph separators, surrogates and unassigned code points.
_UNSHOWABLE = frozenset({"Cc", "Zl", "Zp", "Cs", "Cn", "Co"})


@dataclass(frozen=True)
class Vocabulary:
    kinds: dict[str, frozenset[str]]

    def types_of(self, kind: str) -> frozenset[str]:
        return self.kinds.get(kind, frozenset())


_SNAKE = Annotated[str, Field(strict=True, pattern=r"^[a-z][a-z0-9_]*$")]


class VocabularyFile(BaseModel):
    """vocabulary.yaml: event kinds (lower_snake_case) and, for each, its types."""

    model_config = ConfigDict(extra="forbid", strict=True)

    version: Literal[1]
    kinds: Annotated[dict[_SNAKE, Annotated[list[_SNAKE], Field(min_length=1)]], Field(min_length=1)]


def load_vocabulary(path: str | Path) -> Vocabulary:
    name = str(path)
    data = load_yaml_mapping(path)
    try:
        parsed = VocabularyFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(issues_from_validation_error(name, exc, brackets=True)) from None
    repeats = [ConfigIssue(name, f"kinds.{kind}", "types repeat")
               for kind, types in parsed.kinds.items() if len(set(types)) != len(types)]
    if repeats:
        raise ConfigError(repeats)
    return Vocabulary({kind: frozenset(types) for kind, types in parsed.kinds.items()})


class Event:
    """An accepted event: the validated JSON object plus the parsed time (epoch seconds)."""

    __slots__ = ("event_id", "kind", "type", "t", "doc")

    def __init__(self, event_id: str, kind: str, type_: str, t: float, doc: dict):
        self.event_id = event_id
        self.kind = kind
        self.type = type_
        self.t = t
        self.doc = doc

    def __repr__(self) -> str:
        return f"Event({self.event_id!r}, {self.kind}.{self.type}, t={self.t})"


@dataclass(frozen=True)
class Rejection:
    reason: str
    event_id: str | None = None
    detail: str = field(default="", compare=False)


class _Invalid(Exception):
    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail


def parse_event(
    raw: bytes | str,
    vocab: Vocabulary,
    *,
    now: float | None = None,
    max_skew: float = 300.0,
) -> Event | Rejection:
    """Validate one message.

    future_timestamp applies in every mode (replay, backfill, live): `now` is the wall clock when the
    message is read, time.time() unless the caller read it already (a batch, a test's fixed clock).
    An event from the future is refused here, so it can move no clock: not the engine's, not a
    partition's watermark."""
    if isinstance(raw, str):
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError:
            return Rejection("invalid_json", None, "text is not encodable as UTF-8")
    if len(raw) > MAX_MESSAGE_BYTES:
        return Rejection("too_large", None, f"{len(raw)} bytes > {MAX_MESSAGE_BYTES}")
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Rejection("invalid_json", None, str(exc))
    if not isinstance(doc, dict):
        return Rejection("not_an_object", None, type(doc).__name__)
    checked = fast_check(raw, vocab.kinds)
    if checked is None:
        return validate_object(doc, vocab, now=now, max_skew=max_skew)
    t = checked[1]
    if now is None:
        now = time.time()
    if t > now + max_skew:
        return Rejection("future_timestamp", doc["event_id"], f"{t - now:.0f}s ahead of the wall clock")
    return Event(doc["event_id"], doc["kind"], doc["type"], t, doc)


def validate_object(doc: dict, vocab: Vocabulary, *, now: float | None = None, max_skew: float = 300.0):
    event_id = doc.get("event_id")
    readable_id = event_id if isinstance(event_id, str) and _EVENT_ID.fullmatch(event_id) else None
    try:
        t = _check(doc, vocab)
    except _Invalid as bad:
        return Rejection(bad.reason, readable_id, bad.detail)
    if now is None:
        now = time.time()
    if t > now + max_skew:
        return Rejection("future_timestamp", readable_id, f"{t - now:.0f}s ahead of the wall clock")
    return Event(doc["event_id"], doc["kind"], doc["type"], t, doc)


def _check(doc: dict, vocab: Vocabulary) -> float:
    if not ALLOWED_FIELDS.issuperset(doc):
        unknown = sorted((k for k in doc if k not in ALLOWED_FIELDS))
        raise _Invalid(f"unknown_field:{_reason_key(unknown[0])}")
    for name in REQUIRED_FIELDS:
        if name not in doc:
            raise _Invalid(f"missing_field:{name}")

    event_id = doc["event_id"]
    if not isinstance(event_id, str) or not _EVENT_ID.fullmatch(event_id):
        raise _Invalid("invalid_field:event_id", "1-128 chars of [A-Za-z0-9._:-]")
    kind = doc["kind"]
    if not isinstance(kind, str):
        raise _Invalid("invalid_field:kind")
    types = vocab.kinds.get(kind)
    if types is None:
        raise _Invalid("unknown_kind", kind[:64])
    type_ = doc["type"]
    if not isinstance(type_, str):
        raise _Invalid("invalid_field:type")
    if type_ not in types:
        raise _Invalid("unknown_type", type_[:64])
    t = _time(doc["occurred_at"], "occurred_at")
    source = doc["source"]
    if not isinstance(source, str) or not 1 <= len(source) <= 64:
        raise _Invalid("invalid_field:source", "string of 1-64 chars")

    if len(doc) > len(REQUIRED_FIELDS):
        _check_optional(doc)
    return t


def _reason_key(key: str) -> str:
    """A client-supplied key as it appears in a reason code: at most 64 chars, printable, never empty.

    Reason codes land in logs, the DLQ and line-oriented output: a key of 60 KiB, with a newline or
    other control characters, or the empty key, is written as its repr instead of verbatim. Invisible
    but harmless characters (a zero-width space, a full-width space) stay, so a refused disguise of a
    protected attribute is named as the producer wrote it.
    """
    key = key[:64]
    return key if key and not any(unicodedata.category(ch) in _UNSHOWABLE for ch in key) else repr(key)


def _check_optional(doc: dict) -> None:
    if "reported_at" in doc:
        _time(doc["reported_at"], "reported_at")
    if "location" in doc:
        _check_location(doc["location"])
    if "subjects" in doc:
        _check_subjects(doc["subjects"])
    if "severity" in doc:
        sev = doc["severity"]
        if type(sev) is not int or not 1 <= sev <= 5:
            raise _Invalid("invalid_field:severity", "integer 1-5")
    if "tags" in doc:
        tags = doc["tags"]
        if (
            type(tags) is not list
            or len(tags) > _MAX_TAGS
            or not all(type(x) is str and 0 < len(x) <= _MAX_TAG_CHARS for x in tags)
        ):
            raise _Invalid("invalid_field:tags", "list of at most 20 strings of 1-64 chars")
    if "attributes" in doc:
        _check_attributes(doc["attributes"])
    if "text" in doc:
        text = doc["text"]
        if type(text) is not str or len(text) > _MAX_TEXT:
            raise _Invalid("invalid_field:text", "string of at most 4000 chars")


def _time(value, name: str) -> float:
    if type(value) is not str:
        raise _Invalid(f"invalid_field:{name}", "RFC 3339 string with offset")
    try:
        return parse_time(value).timestamp()
    except NaiveTimestamp:
        raise _Invalid("naive_timestamp", name) from None
    except ValueError:
        raise _Invalid(f"invalid_field:{name}", "RFC 3339 string with offset") from None


def _check_location(loc) -> None:
    if type(loc) is not dict:
        raise _Invalid("invalid_field:location", "object")
    for key, value in loc.items():
        if key == "floor":
            if type(value) is not int or not -20 <= value <= 300:
                raise _Invalid("invalid_field:location.floor", "integer")
        elif key in _LOCATION_STRINGS:
            if type(value) is not str or not 0 < len(value) <= _MAX_LOCATION_STRING:
                raise _Invalid(f"invalid_field:location.{key}", "string of 1-128 chars")
        else:
            raise _Invalid("invalid_field:location", f"unknown key {key[:64]!r}")


def _check_subjects(subjects) -> None:
    if type(subjects) is not list or len(subjects) > _MAX_SUBJECTS:
        raise _Invalid("invalid_field:subjects", "list of at most 20 subjects")
    for s in subjects:
        if (
            type(s) is not dict
            or len(s) != 3
            or s.get("type") not in _SUBJECT_TYPES
            or not is_person_id(s.get("id"))
            or type(s.get("role")) is not str
            or not 0 < len(s["role"]) <= 64
        ):
            raise _Invalid(
                "invalid_field:subjects",
                "each subject is {type: person|business, id: pseudonymous key, role: string}",
            )


def _check_attributes(attrs) -> None:
    if type(attrs) is not dict or len(attrs) > _MAX_ATTRIBUTES:
        raise _Invalid("invalid_field:attributes", "object of at most 50 keys")
    for key, value in attrs.items():
        if is_protected_attribute(key):
            raise _Invalid(f"invalid_field:attributes.{_reason_key(key)}", "protected attribute: never stored")
        if not _attribute_value_ok(value):
            raise _Invalid(f"invalid_field:attributes.{_reason_key(key)}", "string, number, bool or list of those")


def _attribute_value_ok(value) -> bool:
    kind = type(value)
    if kind is str:
        return len(value) <= _MAX_ATTRIBUTE_STRING
    if kind is int or kind is float or kind is bool:
        return True
    if kind is list:
        return len(value) <= 100 and all(
            (type(v) is str and len(v) <= _MAX_ATTRIBUTE_STRING) or type(v) in (int, float, bool) for v in value
        )
    return False
