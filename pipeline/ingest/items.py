"""A POST /v1/events body to per-item verdicts (docs/contract.md §9), with the contract's validator.

Items are the non-blank lines of an NDJSON body, the elements of a JSON array, or the one JSON value
of any other JSON body; they are numbered from 1 in that order. Each item is judged by the contract's
validator (pipeline/contract.py: its msgspec fast path, and `parse_event` for every item the fast
path is unsure of, so the reason codes are replay's and the stream's) with the wall clock for
`future_timestamp`; an otherwise valid event whose `source` is not the one its token is bound to is
rejected `invalid_field:source`. A JSON body that does not parse is one item, rejected `invalid_json`.
Accepted items are kept as posted, without their decoded documents: the Kafka sink sends the bytes
on, and the database sink, which stores documents, decodes them (`Accepted.event`).

Rejected items are kept as riskwatch keeps every rejection (docs/ingest.md, "Rejected items"): as
RejectedMessage rows at (`http:<token name>/<request id>`, 0, item number), stored by the database
sink in the request's transaction or sent to events.dlq by the Kafka sink. The request id is the
start of the body's SHA-256, as replay's position names the file: a resend of the same body (after
a 503 or a lost answer) keeps its rejections once, as a repeated event is stored once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import msgspec
import orjson

from pipeline.contract import MAX_MESSAGE_BYTES, Event, Rejection, Vocabulary, parse_event
from pipeline.event_schema import fast_check
from pipeline.storage.rows import RejectedMessage

NDJSON = "application/x-ndjson"
JSON = "application/json"
CONTENT_TYPES = (NDJSON, JSON)


class Accepted(msgspec.Struct, gc=False):
    """A valid event as posted: what the contract read of it, and its bytes. A msgspec Struct
    because one is made per event on the ingest path, and its constructor runs in C."""

    event_id: str
    kind: str
    type: str
    t: float
    raw: bytes

    def event(self) -> Event:
        """The Event with its document (decoded again: only a sink that stores documents needs it)."""
        return Event(self.event_id, self.kind, self.type, self.t, orjson.loads(self.raw))


@dataclass
class Verdicts:
    """`accepted`: the valid events in item order; `refused`: (item number, raw message bytes,
    rejection) in item order; `results`: one dict per item."""

    accepted: list[Accepted] = field(default_factory=list)
    refused: list[tuple[int, bytes, Rejection]] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return len(self.results) - len(self.accepted)

    def body(self) -> dict:
        return {"accepted": len(self.accepted), "rejected": self.rejected, "results": self.results}

    def rejections(self, token_name: str, request: str) -> list[RejectedMessage]:
        """The refused items as rejections to keep: source `http:<token name>/<request>` (`request`
        from request_id), partition 0, position the item number; `raw` is the whole item, which the
        row and the dead letter bound (pipeline/rawcopy.py)."""
        source = f"{HTTP_SOURCE}{token_name}/{request}"
        return [RejectedMessage(source=source, position=number, reason=rej.reason, event_id=rej.event_id,
                                detail=rej.detail or None, raw=raw)
                for number, raw, rej in self.refused]


# The start of the `source` of every rejection HTTP ingest keeps.
HTTP_SOURCE = "http:"


def request_id(body: bytes) -> str:
    """A request's id: the first 16 hex digits of its body's SHA-256 (the same body, the same id)."""
    return hashlib.sha256(body).hexdigest()[:16]


def media_type(content_type: str | None) -> str | None:
    """The media type of a Content-Type header when it is one ingest takes, else None."""
    if not content_type:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind if kind in CONTENT_TYPES else None


def split_items(body: bytes, kind: str) -> list[bytes]:
    """The raw messages of a body of media type `kind` (NDJSON or JSON)."""
    if kind == NDJSON:
        return [line.rstrip(b"\r") for line in body.split(b"\n") if line and not line.isspace()]
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [body]
    if isinstance(doc, list):
        return [orjson.dumps(item) for item in doc]
    return [body]


def judge(items: list[bytes], vocab: Vocabulary, source: str, now: float, max_skew: float) -> Verdicts:
    """Validate every item; events whose `source` differs from the token's `source` are rejected."""
    out = Verdicts()
    results, accepted, reasons, kinds = out.results, out.accepted, out.reasons, vocab.kinds
    latest = now + max_skew
    for number, raw in enumerate(items, start=1):
        checked = fast_check(raw, kinds) if len(raw) <= MAX_MESSAGE_BYTES else None
        if checked is not None and checked[1] <= latest:
            shape, t = checked
            verdict: Accepted | Rejection = Accepted(shape.event_id, shape.kind, shape.type, t, raw)
            event_source = shape.source
        else:   # invalid, from the future, or a form only the careful validator reads: its reason code
            parsed = parse_event(raw, vocab, now=now, max_skew=max_skew)
            if isinstance(parsed, Rejection):
                verdict, event_source = parsed, source
            else:
                verdict = Accepted(parsed.event_id, parsed.kind, parsed.type, parsed.t, raw)
                event_source = parsed.doc["source"]
        if event_source != source:
            verdict = Rejection("invalid_field:source", verdict.event_id, f"this token posts events of source {source!r}")
        if isinstance(verdict, Rejection):
            results.append({"item": number, "event_id": verdict.event_id, "status": "rejected",
                            "reason": verdict.reason})
            out.refused.append((number, raw, verdict))
            reasons[verdict.reason] = reasons.get(verdict.reason, 0) + 1
        else:
            results.append({"item": number, "event_id": verdict.event_id, "status": "accepted"})
            accepted.append(verdict)
    return out
