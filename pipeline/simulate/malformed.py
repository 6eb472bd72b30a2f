"""Malformed lines for testing the consumer's rejections (docs/contract.md §1 reason codes) and de-duplication.

A line chosen for corruption is replaced by a broken form of the same event (or by an exact copy of an
earlier line: a duplicate). Variants are used in turn, so even a short run covers all of them.
Only replaceable background lines are chosen (monitoring noise, patrol issues, inspections, outreach):
never a scenario or quiet-entity event, a patrol visit or a step of a case, so corruption cannot create
or hide a pattern (a missing visit would look like a patrol gap).
"""

from __future__ import annotations

import random
from collections import deque

import orjson

from pipeline.errors import UsageError

MAX_MESSAGE_BYTES = 64 * 1024

# (variant, the reason a docs/contract.md §1 consumer gives)
VARIANTS = (
    ("invalid_json", "invalid_json"),
    ("missing_field", "missing_field:<f>"),
    ("unknown_kind", "unknown_kind"),
    ("naive_timestamp", "naive_timestamp"),
    ("duplicate", "duplicate"),
    ("unknown_field", "unknown_field:<f>"),
    ("too_large", "too_large"),
    ("non_utf8", "invalid_json"),
    ("unknown_type", "unknown_type"),
    ("invalid_field", "invalid_field:severity"),
    ("not_an_object", "not_an_object"),
    ("duplicate", "duplicate"),
)
_MISSING = ("occurred_at", "source", "kind", "type", "event_id")
_FILLER = "重复上报的原始报文数据。"  # 12 chars, 36 bytes in UTF-8


class Corrupter:
    """Decides, line by line and deterministically, which lines to replace and with what."""

    def __init__(self, seed: int, rate: float):
        if not 0.0 <= rate <= 1.0:
            raise UsageError("malformed_rate must be between 0 and 1")
        self.rate = rate
        self.rng = random.Random(f"{seed}:malformed")
        self.lines = 0
        self.replaced = 0
        self.counts: dict[str, int] = {}
        self._next = self.rng.randrange(len(VARIANTS))
        self._recent: deque[bytes] = deque(maxlen=500)

    def line(self, event: dict, clean: bytes, replaceable: bool) -> bytes:
        self.lines += 1
        if (
            replaceable
            and self.replaced < self.rate * self.lines
            and (self.rate > 0.5 or self.rng.random() < 0.6)
        ):
            variant = VARIANTS[self._next][0]
            self._next = (self._next + 1) % len(VARIANTS)
            if variant == "duplicate" and not self._recent:
                variant = "invalid_json"
            self.replaced += 1
            self.counts[variant] = self.counts.get(variant, 0) + 1
            return self._corrupt(variant, event, clean)
        self._recent.append(clean)
        return clean

    def _corrupt(self, variant: str, event: dict, clean: bytes) -> bytes:
        rng = self.rng
        if variant == "duplicate":
            return rng.choice(self._recent)
        if variant == "invalid_json":
            cut = len(clean) // 2
            while cut > 1 and clean[cut] >= 0x80:  # cut on an ASCII byte: broken JSON, valid UTF-8
                cut -= 1
            return clean[:cut]
        if variant == "non_utf8":
            doc = dict(event)
            doc.setdefault("text", "设备上报")
            raw = orjson.dumps(doc).decode("utf-8").encode("gbk", errors="replace")
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return raw
            return raw + b"\xff"
        if variant == "not_an_object":
            return b"[" + clean + b"]"
        doc = dict(event)
        if variant == "missing_field":
            doc.pop(_MISSING[self.counts[variant] % len(_MISSING)], None)
        elif variant == "unknown_kind":
            doc["kind"] = "maintenance"
        elif variant == "unknown_type":
            doc["type"] = "signal_lost"
        elif variant == "naive_timestamp":
            doc["occurred_at"] = doc["occurred_at"][:19]  # drop the +08:00
        elif variant == "unknown_field":
            doc["gateway_seq"] = rng.randint(1, 10**6)
        elif variant == "invalid_field":
            doc["severity"] = 9
        elif variant == "too_large":
            doc["text"] = _FILLER * (MAX_MESSAGE_BYTES // 36 + 50)
        return orjson.dumps(doc)
