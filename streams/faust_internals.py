"""Every use of Faust's private parts, in one place (faust-streaming 0.15, aiokafka driver).

The worker stands on Faust's public API for its app, agents (`Stream.noack_take`), timers, topics
(`acks=False`), the producer (`Producer.send`) and its changelog-backed table. Three things it needs
have no public form, and each is wrapped here so that a Faust upgrade that moves them breaks one
module and one test (tests/streams/test_faust_internals.py), not the worker at run time:

- **The consumer thread.** Faust's aiokafka consumer runs in its own thread
  (`ThreadDelegateConsumer._thread`, an `AIOKafkaConsumerThread`), and aiokafka is not thread-safe.
  The worker's own offset bookkeeping (streams/commits.py) reads committed offsets, seeks and
  commits; done from the event loop's thread (which is what Faust's public `Consumer.seek` does)
  it raced the fetcher (a KeyError inside aiokafka's fetcher crashed the worker). So those calls run
  in the consumer thread (`_thread.call_thread`) on the thread's aiokafka consumer
  (`_thread._ensure_consumer()`).
- **The read mark.** Faust drops a fetched message whose offset is below the last one it delivered
  for its partition (`Consumer._read_offset`, checked in `Consumer._drain_messages`). A seek back
  must lower that mark as Faust's own `Consumer.seek` does, or the re-read messages are dropped.
- **The generation.** `App.consumer_generation_id` (set by Faust's rebalance listener) and
  `Message.generation_id` tell which consumer generation delivered a message; messages of an older
  generation are never processed.

A table's changelog topic is Faust's `<app_id>-<table>-changelog` unless the table is given one;
`changelog_topic` builds the topic Faust would build (`Collection._new_changelog_topic`, private)
under another name, so the deployment's topic prefix can go in front.

Table values are written to the table's local store (`Collection.data`) and sent to its changelog
topic by the worker itself, with an explicit partition (`write_table`): `table[key] = value` takes
the partition of whatever event Faust considers current, which is wrong for a batch spanning
partitions. `Collection.data` and `changelog_topic` are public attributes; the use is here because
it bypasses the table's own changelog writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer


def _consumer_thread(app) -> Any:
    return app.consumer._thread


async def in_consumer_thread(app, fun: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """Run the coroutine function `fun(*args)` in Faust's consumer thread and return its result."""
    return await _consumer_thread(app).call_thread(fun, *args)


def kafka_consumer(app) -> AIOKafkaConsumer:
    """The aiokafka consumer inside Faust's consumer thread: call it only from `in_consumer_thread`."""
    return _consumer_thread(app)._ensure_consumer()


def lower_read_mark(app, tp, offset: int) -> None:
    """After a seek of `tp` to `offset`: let Faust deliver messages from `offset` on again (None: any)."""
    app.consumer._read_offset[tp] = offset or None


def consumer_generation(app) -> int:
    """The consumer generation Faust is in now (changes with every rebalance)."""
    return app.consumer_generation_id


def message_generation(message) -> int:
    """The consumer generation that delivered `message`."""
    return message.generation_id


async def write_table(app, table, partition: int, key: bytes, value: bytes | None):
    """Write a table value (None: delete) to the local store and to partition `partition` of the
    table's changelog; returns the send future, done once the broker has it."""
    if value is None:
        table.data.pop(key, None)
    else:
        table.data[key] = value
    return await app.producer.send(table.changelog_topic.get_topic_name(), key, value, partition, None, None)


def changelog_topic(app, name: str, partitions: int):
    """The changelog topic Faust makes for a table with bytes keys and values, named `name`."""
    return app.topic(name, partitions=partitions, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", compacting=True, deleting=None, retention=None, acks=False,
                     internal=True)
