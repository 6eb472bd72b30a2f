"""The Kafka sink's dead letters of HTTP ingest: the stream's events.dlq format (codec.dlq_value), read
back by the sink as the same rejection, without a processed position of their own."""

from __future__ import annotations

import orjson

from pipeline.configset import load_config
from pipeline.contract import parse_event
from pipeline.ingest.items import judge
from pipeline.rawcopy import KEEP_BYTES
from streams import codec
from streams.ingest_producer import KafkaSink, dead_letter
from streams.sink import decode
from streams.topics import TopicNames


def test_an_http_dead_letter_has_the_streams_format_and_reads_back_as_the_rejection():
    config = load_config()
    huge = b'{"event_id": "big", "text": "' + b"x" * (KEEP_BYTES + 10) + b'"}'
    items = [b"{not json", huge, b"\xff\xfe"]
    verdicts = judge(items, config.vocabulary, "patrol-app", 0.0, 300.0)
    rejections = verdicts.rejections("patrol-prod", "0123456789abcdef")
    letters = [dead_letter(r) for r in rejections]
    stream_letter = codec.dlq_value(b"{not json", "invalid_json", parse_event(b"{not json", config.vocabulary).detail,
                                    None, "events.raw", 0, 7)
    assert set(orjson.loads(letters[0])) == set(orjson.loads(stream_letter))
    back = [codec.rejection_of(letter) for letter in letters]
    assert [(r.source, r.partition, r.position, r.reason) for r in back] == [
        ("http:patrol-prod/0123456789abcdef", 0, n, reason)
        for n, reason in ((1, "invalid_json"), (2, "too_large"), (3, "invalid_json"))]
    assert back[1].raw_length == len(huge) and len(back[1].raw) == KEEP_BYTES
    assert back[2].raw == b"\xff\xfe"
    names = TopicNames.make("x.")
    batch = decode([(names.dlq, 0, 5, letter) for letter in letters], names)
    assert len(batch.rejections) == 3
    assert batch.positions == {(names.dlq, 0): 6}      # the dlq's own offset, no position per request


def test_the_dead_letters_go_to_the_deployments_events_dlq():
    assert KafkaSink("b:9092", TopicNames.make("t1.").raw).dlq_topic == TopicNames.make("t1.").dlq
    assert KafkaSink("b:9092", "events.raw", dlq_topic="other.dlq").dlq_topic == "other.dlq"
