"""A POST /v1/events body to per-item verdicts (docs/contract.md §9), with the contract's validator.

Items are the non-blank lines of an NDJSON body, the elements of a JSON array, or the one JSON value
of any other JSON body; they are numbered from 1 in that order. Each item goes through
pipeline/contract.py's `parse_event` (the one validator, same reason codes as replay and the stream)
with the wall clock for `future_timestamp`; an otherwise valid event whose `source` is not the one
its token is bound to is rejected `invalid_field:source`. A JSON body that does not parse is one
item, rejected `invalid_json`.

Rejected items are kept as riskwatch keeps every rejection (docs/ingest.md, "Rejected items"): as
RejectedMessage rows at (`http:<token name>/<request id>`, 0, item number), stored by the database
sink in the request's transaction or sent to events.dlq by the Kafka sink. The request id is the
start of the body's SHA-256, as replay's position names the file: a resend of the same body (after
a 503 or a lost answer) keeps its rejections once, as a repeated event is stored once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import orjson

from pipeline.contract import Event, Rejection, Vocabulary, parse_event
from pipeline.storage.rows import RejectedMessage

NDJSON = "application/x-ndjson"
JSON = "application/json"
CONTENT_TYPES = (NDJSON, JSON)


@dataclass
class Verdicts:
    """`accepted`: (event, raw message bytes) in item order; `refused`: (item number, raw message
    bytes, rejection) in item order; `results`: one dict per item."""

    accepted: list[tuple[Event, bytes]] = field(default_factory=list)
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
    results, accepted, reasons = out.results, out.accepted, out.reasons
    for number, raw in enumerate(items, start=1):
        parsed = parse_event(raw, vocab, now=now, max_skew=max_skew)
        if isinstance(parsed, Event) and parsed.doc["source"] != source:
            parsed = Rejection("invalid_field:source", parsed.event_id, f"this token posts events of source {source!r}")
        if isinstance(parsed, Rejection):
            results.append({"item": number, "event_id": parsed.event_id, "status": "rejected",
                            "reason": parsed.reason})
            out.refused.append((number, raw, parsed))
            reasons[parsed.reason] = reasons.get(parsed.reason, 0) + 1
        else:
            results.append({"item": number, "event_id": parsed.event_id, "status": "accepted"})
            accepted.append((parsed, raw))
    return out
