"""The event contract as a msgspec schema: the fast proof that a message is a valid event.

Decoding and checking in C costs about a tenth of the hand-written validator in pipeline/contract.py.
The schema is deliberately *at least as strict* as that validator: when it accepts, the event is
valid; when it refuses (or a check here is unsure), the hand-written validator runs and decides,
naming the reason code the contract requires. A differential property test holds the two together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal, Union

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from pipeline.persons.ids import PERSON_ID_PATTERN
from pipeline.protected import is_protected_attribute

_Str128 = Annotated[str, Meta(min_length=1, max_length=128)]
_AttrStr = Annotated[str, Meta(max_length=4000)]
_Scalar = Union[_AttrStr, int, float, bool]
# Times are decoded as text of this form and read by the same datetime.fromisoformat as the careful
# validator (pipeline/timeutil.py parse_time), so both give the same instant. Rarer forms the contract
# takes (nanoseconds, which it truncates) are left to the careful validator.
_TIME_TEXT = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
              r"(?:[Zz]|[+-][0-9]{2}:[0-5][0-9])\Z")
_Time = Annotated[str, Meta(pattern=_TIME_TEXT)]


class _Location(Struct, forbid_unknown_fields=True, gc=False):
    id: _Str128 | UnsetType = UNSET
    building: _Str128 | UnsetType = UNSET
    floor: Annotated[int, Meta(ge=-20, le=300)] | UnsetType = UNSET
    unit: _Str128 | UnsetType = UNSET
    checkpoint: _Str128 | UnsetType = UNSET


class _Subject(Struct, forbid_unknown_fields=True, gc=False):
    type: Literal["person", "business"]
    id: Annotated[str, Meta(pattern=rf"^{PERSON_ID_PATTERN}\Z")]
    role: Annotated[str, Meta(min_length=1, max_length=64)]


class EventShape(Struct, forbid_unknown_fields=True, gc=False):
    """A message decoded against the contract's shape; `fast_check` adds what a schema cannot say."""

    event_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:-]{1,128}\Z")]
    kind: str
    type: str
    occurred_at: _Time
    source: Annotated[str, Meta(min_length=1, max_length=64)]
    reported_at: _Time | UnsetType = UNSET
    location: _Location | UnsetType = UNSET
    subjects: Annotated[list[_Subject], Meta(max_length=20)] | UnsetType = UNSET
    severity: Annotated[int, Meta(ge=1, le=5)] | UnsetType = UNSET
    tags: Annotated[list[Annotated[str, Meta(min_length=1, max_length=64)]], Meta(max_length=20)] | UnsetType = UNSET
    attributes: Annotated[
        dict[str, Union[_AttrStr, int, float, bool, Annotated[list[_Scalar], Meta(max_length=100)]]],
        Meta(max_length=50),
    ] | UnsetType = UNSET
    text: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET


_decoder = msgspec.json.Decoder(EventShape)
# Attribute names seen not to be protected: a set lets a whole event's names be checked in one C call.
# Bounded, and only short names, so that hostile producers cannot grow it without limit.
_SAFE_NAMES: set[str] = set()
_SAFE_NAMES_MAX = 4096


def fast_check(raw: bytes, kinds: Mapping[str, frozenset[str]]) -> tuple[EventShape, float] | None:
    """The decoded message and its occurred_at as epoch seconds when `raw` is certainly a valid event
    (the wall-clock bound aside: the caller knows the clock); None when unsure."""
    try:
        m = _decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError, UnicodeDecodeError):  # msgspec raises the last for bad UTF-8
        return None
    types = kinds.get(m.kind)
    if types is None or m.type not in types:
        return None
    occurred = _instant(m.occurred_at)
    if occurred is None or (m.reported_at is not UNSET and _instant(m.reported_at) is None):
        return None
    attributes = m.attributes
    if attributes and not _SAFE_NAMES.issuperset(attributes) and not _names_allowed(attributes):
        return None
    return m, occurred.timestamp()


def _instant(text: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(text.upper())
    except ValueError:     # e.g. February 30th
        return None
    # years 1 and 9999 may lie outside the range in UTC: the careful validator decides those
    return value if 1 < value.year < 9999 else None


def _names_allowed(attributes: Mapping[str, object]) -> bool:
    for name in attributes:
        if name in _SAFE_NAMES:
            continue
        if is_protected_attribute(name):
            return False
        if len(name) <= 64 and len(_SAFE_NAMES) < _SAFE_NAMES_MAX:
            _SAFE_NAMES.add(name)
    return True
