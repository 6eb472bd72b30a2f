"""The event contract as a msgspec schema: the fast proof that a message is a valid event.

Decoding and checking in C costs about a tenth of the hand-written validator in pipeline/contract.py.
The schema is deliberately *at least as strict* as that validator: when it accepts, the event is
valid; when it refuses (or a check here is unsure), the hand-written validator runs and decides,
naming the reason code the contract requires. A differential property test holds the two together.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal, Union

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from pipeline.persons.ids import PERSON_ID_PATTERN
from pipeline.protected import is_protected_attribute

_Str128 = Annotated[str, Meta(min_length=1, max_length=128)]
_AttrStr = Annotated[str, Meta(max_length=4000)]
_Scalar = Union[_AttrStr, int, float, bool]
# Times are checked again below on their text: msgspec accepts a space for `T` and rounds
# nanoseconds, where the contract refuses the first and truncates the second.
_TIME_TEXT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:[Zz]|[+-][0-9]{2}:[0-5][0-9])"
)


class _Location(Struct, forbid_unknown_fields=True):
    id: _Str128 | UnsetType = UNSET
    building: _Str128 | UnsetType = UNSET
    floor: Annotated[int, Meta(ge=-20, le=300)] | UnsetType = UNSET
    unit: _Str128 | UnsetType = UNSET
    checkpoint: _Str128 | UnsetType = UNSET


class _Subject(Struct, forbid_unknown_fields=True):
    type: Literal["person", "business"]
    id: Annotated[str, Meta(pattern=rf"^{PERSON_ID_PATTERN}\Z")]
    role: Annotated[str, Meta(min_length=1, max_length=64)]


class _Event(Struct, forbid_unknown_fields=True):
    event_id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9._:-]{1,128}\Z")]
    kind: str
    type: str
    occurred_at: datetime
    source: Annotated[str, Meta(min_length=1, max_length=64)]
    reported_at: datetime | UnsetType = UNSET
    location: _Location | UnsetType = UNSET
    subjects: Annotated[list[_Subject], Meta(max_length=20)] | UnsetType = UNSET
    severity: Annotated[int, Meta(ge=1, le=5)] | UnsetType = UNSET
    tags: Annotated[list[Annotated[str, Meta(min_length=1, max_length=64)]], Meta(max_length=20)] | UnsetType = UNSET
    attributes: Annotated[
        dict[str, Union[_AttrStr, int, float, bool, Annotated[list[_Scalar], Meta(max_length=100)]]],
        Meta(max_length=50),
    ] | UnsetType = UNSET
    text: Annotated[str, Meta(max_length=4000)] | UnsetType = UNSET


_decoder = msgspec.json.Decoder(_Event)


def fast_time(raw: bytes, doc: dict, kinds: dict) -> float | None:
    """occurred_at as epoch seconds when `raw` is certainly a valid event; None when unsure."""
    try:
        m = _decoder.decode(raw)
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    types = kinds.get(m.kind)
    if types is None or m.type not in types:
        return None
    occurred = m.occurred_at
    if not _time_ok(occurred, doc.get("occurred_at")):
        return None
    if m.reported_at is not UNSET and not _time_ok(m.reported_at, doc.get("reported_at")):
        return None
    attributes = m.attributes
    if attributes:
        for key in attributes:
            if is_protected_attribute(key):
                return None
    return occurred.timestamp()


def _time_ok(value: datetime, text) -> bool:
    return (
        value.tzinfo is not None
        and 1 < value.year < 9999
        and type(text) is str
        and _TIME_TEXT.fullmatch(text) is not None
    )

