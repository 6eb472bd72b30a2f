"""What a person id may be: a pseudonymous key, never a name or a phone number.

Key characters only (`[A-Za-z0-9._:-]`, 1–64): a name needs CJK characters or spaces, so it can never
be taken for an id. The event contract, the registry (import and reveal) and every other door a
person id comes through check it here, before anything is stored or audited.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.errors import InvalidPersonId

PERSON_ID_PATTERN = r"[A-Za-z0-9._:-]{1,64}"
_PERSON_ID = re.compile(PERSON_ID_PATTERN)


def is_person_id(value: object) -> bool:
    return isinstance(value, str) and _PERSON_ID.fullmatch(value) is not None


def check_person_id(value: object, where: str = "person id") -> str:
    """`value` when it is key-like; InvalidPersonId naming `where` otherwise.

    The message never repeats the refused value: it may be a name and a phone number, and error
    messages reach logs.
    """
    if not is_person_id(value):
        raise InvalidPersonId(
            f"{where}: not a pseudonymous key (1-64 of A-Z a-z 0-9 . _ : -, e.g. P-0007);"
            " names and phone numbers are never ids"
        )
    return str(value)


def person_ids(values: Iterable[object], where: str = "person id") -> list[str]:
    """Every one of `values` checked by check_person_id (the first bad one named by its position)."""
    return [check_person_id(value, f"{where} #{n}") for n, value in enumerate(values, 1)]
