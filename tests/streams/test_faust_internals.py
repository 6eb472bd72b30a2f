"""The Faust internals streams/faust_internals.py relies on are still there, with the meaning it assumes.

Checked on the installed faust-streaming, without a broker: an upgrade that renames or moves any of
them fails here instead of in a running worker.
"""

from __future__ import annotations

import asyncio
import inspect

import faust
import pytest
from aiokafka import AIOKafkaConsumer
from faust.exceptions import ConsumerNotStarted
from faust.transport.consumer import Consumer, ThreadDelegateConsumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP, Message

from streams import faust_internals as fi


@pytest.fixture
def app():
    app = faust.App("riskwatch-internals-test", broker="kafka://127.0.0.1:1", store="memory://", web_enabled=False)
    yield app
    # Faust made event loops for the app and, once the consumer exists, its thread; nothing ran on them
    if app.__dict__.get("_consumer") is not None:
        app.consumer._thread.thread_loop.close()
    app.loop.close()


def test_the_consumer_runs_aiokafka_in_its_own_thread(app):
    consumer = app.consumer
    assert isinstance(consumer, ThreadDelegateConsumer)
    thread = consumer._thread
    assert isinstance(thread, AIOKafkaConsumerThread)
    assert list(inspect.signature(thread._ensure_consumer).parameters) == []
    assert inspect.signature(AIOKafkaConsumerThread._ensure_consumer).return_annotation in (
        AIOKafkaConsumer, "aiokafka.AIOKafkaConsumer")
    with pytest.raises(ConsumerNotStarted):
        fi.kafka_consumer(app)          # not started: the thread owns no aiokafka consumer yet


def test_call_thread_takes_a_function_and_its_arguments():
    params = list(inspect.signature(AIOKafkaConsumerThread.call_thread).parameters.values())
    assert [p.name for p in params[:2]] == ["self", "fun"]
    assert params[2].kind is inspect.Parameter.VAR_POSITIONAL


def test_the_read_mark_is_what_faust_drops_messages_by(app):
    tp = TP("t", 0)
    assert app.consumer._read_offset[tp] is None            # a default mapping: None means "any offset"
    fi.lower_read_mark(app, tp, 7)
    assert app.consumer._read_offset[tp] == 7
    fi.lower_read_mark(app, tp, 0)
    assert app.consumer._read_offset[tp] is None
    # Faust's own seek lowers the same mark, and its fetch loop compares offsets with it
    assert "self._read_offset[" in inspect.getsource(Consumer.seek)
    assert "self._read_offset" in inspect.getsource(Consumer._drain_messages)


def test_generations_are_on_the_app_and_on_every_message(app):
    assert fi.consumer_generation(app) == app.consumer_generation_id
    assert "generation_id" in Message.__slots__
    message = Message("t", 0, 5, 0.0, 0, {}, b"k", b"v", None, generation_id=3)
    assert fi.message_generation(message) == 3


def test_table_writes_reach_the_store_and_the_changelog_partition(app):
    table = app.Table("entity-state", key_type=bytes, value_type=bytes)
    sent = []

    async def send(topic, key, value, partition, timestamp, headers):
        sent.append((topic, key, value, partition))
        return "future"

    params = list(inspect.signature(type(app.producer).send).parameters)
    assert params[:7] == ["self", "topic", "key", "value", "partition", "timestamp", "headers"]
    app.producer.send = send

    async def run():
        assert await fi.write_table(app, table, 2, b"k", b"v") == "future"
        assert table.data[b"k"] == b"v"
        await fi.write_table(app, table, 2, b"k", None)
        assert b"k" not in table.data

    asyncio.run(run())
    name = table.changelog_topic.get_topic_name()
    assert sent == [(name, b"k", b"v", 2), (name, b"k", None, 2)]


def test_a_table_takes_a_changelog_topic_like_its_own_under_another_name(app):
    default = app.Table("entity-state", key_type=bytes, value_type=bytes, partitions=4).changelog_topic
    mine = fi.changelog_topic(app, "p1.riskwatch-entity-state-changelog", 4)
    table = app.Table("other", key_type=bytes, value_type=bytes, partitions=4, changelog_topic=mine)
    assert table.changelog_topic.get_topic_name() == "p1.riskwatch-entity-state-changelog"
    attrs = ("key_type", "value_type", "key_serializer", "value_serializer", "partitions", "compacting", "deleting",
             "retention", "acks", "internal", "replicas", "config")
    assert {a: getattr(mine, a) for a in attrs} == {a: getattr(default, a) for a in attrs}
    # Faust's recovery finds a table by its changelog's name, registered when the table is created
    assert app.tables.changelog_topics >= {"p1.riskwatch-entity-state-changelog"}
