"""streams/raw_reader.py on the real broker: the ingest state read back on assignment."""

from __future__ import annotations

import asyncio

import pytest
from kafka import KafkaProducer

from streams.kafka_io import create_topic
from streams.raw_reader import RawReader

pytestmark = pytest.mark.integration


def test_the_ingest_state_read_back_is_the_last_value_of_each_key_per_partition(kafka_bootstrap, unique_topic):
    create_topic(kafka_bootstrap, unique_topic, 2)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for partition, key, value in [(0, b"s:0:1", b"one"), (0, b"s:0:2", b"two"), (0, b"s:0:1", None),
                                  (0, b"m:0", b"old"), (0, b"m:0", b"new"), (1, b"s:1:9", b"nine")]:
        producer.send(unique_topic, key=key, value=value, partition=partition)
    producer.flush()
    producer.close()
    reader = RawReader(kafka_bootstrap, f"{unique_topic}-group", "unused", unique_topic, batch=10,
                       lock=asyncio.Lock(), on_assigned=None, on_revoked=None)
    state = asyncio.run(reader._read_changelog([0, 1]))
    assert state == {0: [(b"s:0:2", b"two"), (b"m:0", b"new")], 1: [(b"s:1:9", b"nine")]}
