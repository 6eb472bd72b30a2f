"""A dead letter always fits on the broker: oversized, escape-heavy or non-UTF-8 input gives a bounded
events.dlq record with the original's length, SHA-256 and source position."""

from __future__ import annotations

import base64
import hashlib

import orjson
import pytest

from streams import codec
from streams.ingest import Ingest
from streams.topics import MAX_MESSAGE_BYTES
from tests.pipeline import enginekit as ek

OVERSIZED = {
    "quotes": b'"' * 600_000,                                         # JSON escaping doubles it
    "not utf-8": b"\xff\xfe" * 400_000,                                 # base64 adds a third
    "control characters": b"\x01" * 900_000,                            # escaped as \u0001: six times
    "huge field name": b'{"' + b"k" * 900_000 + b'": 1, "event_id": "e-1"}',
}


@pytest.mark.parametrize("raw", OVERSIZED.values(), ids=OVERSIZED.keys())
def test_an_oversized_rejection_gives_a_bounded_dead_letter(raw):
    ingest = Ingest(ek.project_config(), "events.raw", 4)
    out = ingest.process([(3, 41, raw)])
    assert out.rejected == 1 and len(out.dlq) == 1
    partition, value = out.dlq[0]
    assert partition == 3
    assert len(value) < 512 * 1024 < MAX_MESSAGE_BYTES
    doc = orjson.loads(value)
    assert (doc["topic"], doc["partition"], doc["offset"]) == ("events.raw", 3, 41)
    assert doc["reason"] == "too_large"
    assert doc["raw_length"] == len(raw) and doc["raw_sha256"] == hashlib.sha256(raw).hexdigest()
    assert doc["raw_truncated"] is True
    kept = doc["raw"].encode() if "raw" in doc else base64.b64decode(doc["raw_base64"])
    assert raw.startswith(kept) and 0 < len(kept) < len(raw)


def test_a_small_rejection_keeps_the_original_whole():
    value = codec.dlq_value(b"[1]", "not_an_object", "", None, "events.raw", 0, 5)
    doc = orjson.loads(value)
    assert doc["raw"] == "[1]" and doc["raw_length"] == 3 and doc["raw_truncated"] is False
    assert codec.rejection_of(value).raw == "[1]"


def test_a_huge_detail_is_cut():
    doc = orjson.loads(codec.dlq_value(b"{}", "unknown_field:x", "x" * 10**6, None, "events.raw", 0, 0))
    assert len(doc["detail"]) == 1000


def test_the_stored_rejection_describes_the_whole_original_not_the_copy():
    from datetime import UTC, datetime

    from pipeline.storage.rows import COLUMNS, rejection_row

    raw = b'"' * 600_000
    ingest = Ingest(ek.project_config(), "events.raw", 4)
    value = ingest.process([(0, 9, raw)]).dlq[0][1]
    row = dict(zip(COLUMNS["rejections"], rejection_row(codec.rejection_of(value), datetime.now(UTC)), strict=True))
    assert row["raw_length"] == len(raw) and row["raw_sha256"] == hashlib.sha256(raw).hexdigest()
    assert row["raw"] == '"' * (64 * 1024)
