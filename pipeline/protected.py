"""Which attribute names describe protected characteristics (docs/contract.md §3 guardrails).

The one test used by the event contract (both validators) and by the rule loader, so an attribute
refused in events is refused in rules and the other way round. Offices write keys in Chinese and
producers disguise them (`ethnic_group`, `"religion "`, full-width letters, zero-width characters),
so the name is normalised before it is compared.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# The contract's list of the normalised names that are protected (equality).
PROTECTED_NAMES = frozenset(
    {
        "ethnicity", "ethnic", "ethnicgroup", "race",
        "religion", "religious", "faith",
        "politicalaffiliation", "political", "partymembership", "partymember",
        "sexualorientation",
        "health", "healthstatus", "medical", "medicalhistory",
        "disability", "disabled",
        "unionmembership", "union",
    }
)
# The contract's Chinese terms: a normalised name containing any of them is protected.
PROTECTED_TERMS = ("民族", "种族", "宗教", "信仰", "政治面貌", "党员", "党派", "性取向", "健康", "病史", "疾病", "残疾", "工会")

_SEPARATORS = frozenset("_-.")


def normalise_attribute_name(name: str) -> str:
    """NFKC, case folding, then without whitespace (full-width included), zero-width characters, `_`, `-`, `.`.

    Zero-width characters are taken as the Unicode format class (Cf: ZWSP, ZWNJ, ZWJ, word joiner,
    BOM, soft hyphen, direction marks): none of them is visible, so none can tell two names apart
    for a reader. NFKC runs again after case folding because folding can produce composable text.
    """
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    return "".join(
        ch for ch in folded if not ch.isspace() and ch not in _SEPARATORS and unicodedata.category(ch) != "Cf"
    )


def is_protected_attribute(name: str) -> bool:
    """Whether an attribute of this name may never be stored nor tested by a rule."""
    # Keys repeat on every event of a producer: short ones are cached; a long key is checked each time
    # so that hostile keys of kilobytes cannot fill the cache.
    return _protected_cached(name) if len(name) <= 64 else _protected(name)


def _protected(name: str) -> bool:
    key = normalise_attribute_name(name)
    return key in PROTECTED_NAMES or any(term in key for term in PROTECTED_TERMS)


_protected_cached = lru_cache(maxsize=4096)(_protected)
