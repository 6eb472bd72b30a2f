"""A bounded copy of a refused message's original bytes: what a dead letter (events.dlq) and a stored
rejection keep of input that may be arbitrarily large.

A rejection must never be bigger than what can be stored or sent: a 200 MB line, or 600 KB of `"`
that JSON escaping doubles past the broker's message limit, once stopped the stream worker for good.
So a rejection keeps the first KEEP_BYTES of the original, its full length and its SHA-256 (enough to
find the original at its source and to prove a copy is the same), never the whole message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

# Bytes of the original kept: every message the contract can accept (64 KiB, docs/contract.md §1)
# is kept whole; a larger one is too_large anyway, and its first 64 KiB show what it was.
KEEP_BYTES = 64 * 1024
# Characters of a rejection's detail kept: a detail may quote a field name, which can be any size.
DETAIL_KEEP = 1000


@dataclass(frozen=True)
class RawCopy:
    prefix: bytes           # the first `keep` bytes of the original
    length: int             # the original's length in bytes
    sha256: str             # hex SHA-256 of the whole original

    @property
    def truncated(self) -> bool:
        return len(self.prefix) < self.length


def bounded_copy(raw: bytes, keep: int = KEEP_BYTES) -> RawCopy:
    """The first `keep` bytes of `raw`, its length and its SHA-256."""
    return RawCopy(bytes(raw[:keep]), len(raw), hashlib.sha256(raw).hexdigest())


def bounded_detail(detail: str | None) -> str | None:
    """A rejection's detail cut to DETAIL_KEEP characters (None for none)."""
    return detail[:DETAIL_KEEP] if detail else None
