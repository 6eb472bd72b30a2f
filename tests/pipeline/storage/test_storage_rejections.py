"""A rejected message is stored as a bounded copy: at most rawcopy.KEEP_BYTES of the original, its whole length
and its SHA-256 — from replay (a huge line of a file), from the stream (a dead letter) and through the writer."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from pipeline.configset import load_config
from pipeline.rawcopy import KEEP_BYTES
from pipeline.replay import read_lines, replay
from pipeline.storage import RejectedMessage, Writer, db
from pipeline.storage.replay_store import open_replay_store
from pipeline.storage.rows import COLUMNS, rejection_row
from streams import codec

NOW = sa.func.now()


def stored(url: str) -> list[tuple]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(
                "SELECT position, raw, raw_bytes, raw_length, raw_sha256 FROM rejections ORDER BY position"))]
    finally:
        engine.dispose()


def write(url: str, *messages: RejectedMessage) -> list[tuple]:
    db.open_database(url).dispose()
    w = Writer(url, retry_deadline=2.0, sleep=lambda s: None)
    try:
        w.write_batch(rejections=list(messages))
    finally:
        w.close()
    return stored(url)


def test_a_huge_text_line_keeps_its_start_length_and_hash(sqlite_url):
    huge = ('{"event_id": "x", "text": "' + "火" * 1_000_000 + '"}').encode()   # 3 MB, a character per 3 bytes
    [(_, raw, raw_bytes, length, sha)] = write(sqlite_url, RejectedMessage("f.jsonl", 1, "too_large", raw=huge))
    assert raw_bytes is None and length == len(huge) and sha == hashlib.sha256(huge).hexdigest()
    kept = raw.encode()
    assert KEEP_BYTES - 3 < len(kept) <= KEEP_BYTES and huge.startswith(kept)   # the split character left out


def test_huge_bytes_that_are_not_utf8_are_kept_as_bounded_bytes(sqlite_url):
    huge = b"\xff" * (3 * KEEP_BYTES)
    [(_, raw, raw_bytes, length, sha)] = write(sqlite_url, RejectedMessage("f.jsonl", 1, "invalid_json", raw=huge))
    assert raw is None and raw_bytes == huge[:KEEP_BYTES] and length == len(huge)
    assert sha == hashlib.sha256(huge).hexdigest()


def test_replay_stores_a_huge_line_bounded(sqlite_url, tmp_path):
    huge = b'{"event_id": "big", "text": "' + b"a" * (5 * 1024 * 1024) + b'"}'
    path = tmp_path / "events.jsonl"
    path.write_bytes(b'{"oops\n' + huge + b"\n")
    cfg = load_config()
    result = replay(read_lines(path), cfg, keep_events=True)
    open_replay_store(sqlite_url, cfg)(result, source=path)
    rows = stored(sqlite_url)
    assert rows[0] == (1, '{"oops', None, 6, hashlib.sha256(b'{"oops').hexdigest())
    position, raw, _, length, sha = rows[1]
    assert position == 2 and len(raw) == KEEP_BYTES and huge.startswith(raw.encode())
    assert (length, sha) == (len(huge), hashlib.sha256(huge).hexdigest())


def test_a_dead_letter_keeps_the_originals_length_and_hash(sqlite_url):
    huge = b'"' * (600 * 1024)
    letter = codec.dlq_value(huge, "invalid_json", "x", None, "events.raw", 3, 42)
    [(_, raw, _, length, sha)] = write(sqlite_url, codec.rejection_of(letter))
    assert len(raw) == KEEP_BYTES and (length, sha) == (len(huge), hashlib.sha256(huge).hexdigest())


@given(st.binary(max_size=3 * KEEP_BYTES) | st.text(max_size=KEEP_BYTES).map(str.encode))
def test_a_row_never_holds_more_than_the_bounded_copy(original):
    row = dict(zip(COLUMNS["rejections"], rejection_row(RejectedMessage("f", 1, "invalid_json", raw=original), NOW),
                   strict=True))
    kept = row["raw"].encode() if row["raw"] is not None else row["raw_bytes"]
    assert len(kept) <= KEEP_BYTES and original.startswith(kept)
    assert len(kept) >= min(len(original), KEEP_BYTES) - 3
    assert row["raw_length"] == len(original) and row["raw_sha256"] == hashlib.sha256(original).hexdigest()
