"""Plain kafka-python helpers around the broker: create topics, produce lines, read a topic to its end.

Used by the CLI (`riskwatch produce`, `riskwatch consume-count`, see pipeline/commands/kafka.py), by the
simulator's `--to kafka`, by scripts/kafka-start.sh (`python -m streams.kafka_io ping`) and by the
integration tests. The Faust app does its own I/O through aiokafka; nothing here is on its path.

Every function takes the bootstrap address explicitly; callers read it from settings
(`RISKWATCH_KAFKA_BOOTSTRAP`, default 127.0.0.1:9092). A broker that cannot be reached raises
`KafkaUnavailable`, whose message is the one line a user should see.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka import errors as kerrors
from kafka.consumer.fetcher import ConsumerRecord

from pipeline.errors import KafkaUnavailable, ServiceUnavailable, UnknownTopic
from streams.topics import MAX_MESSAGE_BYTES, TOPIC_CONFIG

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"
# How long a client waits for its first connection before the broker counts as unreachable.
# A broker on this machine answers in milliseconds; the default 30 s would only delay the error.
CONNECT_TIMEOUT_S = 5.0


def bootstrap_hosts(bootstrap: str) -> list[str]:
    """host:port entries of a comma-separated bootstrap setting (blanks and spaces dropped)."""
    return [h.strip() for h in bootstrap.split(",") if h.strip()]


def _any_listening(bootstrap: str, timeout: float) -> bool:
    """Whether a TCP connection to one of the bootstrap hosts opens at all."""
    for host in bootstrap_hosts(bootstrap):
        name, _, port = host.rpartition(":")
        try:
            socket.create_connection((name.strip("[]"), int(port)), timeout=timeout).close()
            return True
        except (OSError, ValueError):
            continue
    return False


def _connect(factory, bootstrap: str, connect_timeout: float | None, **config):
    # kafka-python bootstraps in the constructor, so a failure there means nobody answered. A client
    # whose constructor failed cannot be closed, and its IO thread keeps retrying with new sockets:
    # when no host even accepts a TCP connection, say so without building one.
    timeout_ms = int((connect_timeout or CONNECT_TIMEOUT_S) * 1000)
    if not _any_listening(bootstrap, timeout_ms / 1000):
        raise KafkaUnavailable(bootstrap)
    try:
        return factory(bootstrap_servers=bootstrap, bootstrap_timeout_ms=timeout_ms, **config)
    except (kerrors.KafkaTimeoutError, kerrors.KafkaConnectionError) as exc:
        raise KafkaUnavailable(bootstrap) from exc


def ping(bootstrap: str, timeout: float | None = None) -> dict:
    """One metadata round trip; returns the cluster description (cluster_id, controller_id, brokers)
    plus `broker_version`, the first broker's version as a tuple such as (4, 1)."""
    timeout = timeout or CONNECT_TIMEOUT_S
    admin = _connect(KafkaAdminClient, bootstrap, timeout, request_timeout_ms=int(timeout * 1000))
    try:
        info = admin.describe_cluster()
        info["broker_version"] = admin.get_broker_version_data(info["brokers"][0]["broker_id"]).broker_version
        return info
    except kerrors.KafkaError as exc:
        raise KafkaUnavailable(bootstrap) from exc
    finally:
        admin.close()


def create_topic(
    bootstrap: str,
    name: str,
    partitions: int,
    replication: int = 1,
    *,
    connect_timeout: float | None = None,
) -> int:
    """Create `name` unless it exists; return its partition count once every partition has a leader.

    An existing topic is left as it is, so the count returned may differ from `partitions`:
    callers that depend on the count (keyed topics) compare and say so.
    """
    admin = _connect(KafkaAdminClient, bootstrap, connect_timeout)
    try:
        try:
            admin.create_topics({name: {"num_partitions": partitions, "replication_factor": replication,
                                        "configs": dict(TOPIC_CONFIG)}})
        except kerrors.TopicAlreadyExistsError:
            pass
        admin.wait_for_topics([name], timeout_ms=10_000)
        (info,) = admin.describe_topics([name])
        return len(info["partitions"])
    finally:
        admin.close()


def topic_partitions(bootstrap: str, topic: str, *, connect_timeout: float | None = None) -> int | None:
    """Partition count of `topic`, or None when it does not exist."""
    admin = _connect(KafkaAdminClient, bootstrap, connect_timeout)
    try:
        # describe_topics reports a missing topic as an error code in its answer, not as an exception.
        (info,) = admin.describe_topics([topic])
        if info.get("error_code", 0) == kerrors.UnknownTopicOrPartitionError.errno:
            return None
        return len(info["partitions"])
    finally:
        admin.close()


def delete_topic(bootstrap: str, topic: str, *, connect_timeout: float | None = None) -> bool:
    """Delete `topic`; False when it did not exist."""
    admin = _connect(KafkaAdminClient, bootstrap, connect_timeout)
    try:
        admin.delete_topics([topic])
        return True
    except kerrors.UnknownTopicOrPartitionError:
        return False
    finally:
        admin.close()


def _as_key(key: bytes | str | None) -> bytes | None:
    return key.encode("utf-8") if isinstance(key, str) else key


def produce_lines(
    bootstrap: str,
    topic: str,
    lines: Iterable[bytes],
    key_fn: Callable[[bytes], bytes | str | None] | None = None,
    *,
    connect_timeout: float | None = None,
    partition_fn: Callable[[bytes], int | None] | None = None,
) -> int:
    """Send each line as one message to an existing topic; return how many were sent.

    `partition_fn(line)` picks the partition (None: Kafka's partitioner; see streams/partitioning.py).

    acks=all so a returned count means every message is on the broker's log; a failed send
    raises after the flush instead of being dropped. Lines are sent as they are (no stripping):
    the consumer, not the producer, decides what is a valid event.
    """
    if topic_partitions(bootstrap, topic, connect_timeout=connect_timeout) is None:
        raise UnknownTopic(topic, bootstrap)
    producer = _connect(
        KafkaProducer,
        bootstrap,
        connect_timeout,
        acks="all",
        linger_ms=20,
        batch_size=256 * 1024,
        # A broker that disappears mid-run should fail the command, not hang it for the default 60 s.
        max_block_ms=15_000,
        # an oversized event must reach the worker (rejected there, with a dead letter), not fail here
        max_request_size=MAX_MESSAGE_BYTES,
    )
    failures: list[BaseException] = []
    count = 0
    try:
        for line in lines:
            key = _as_key(key_fn(line)) if key_fn else None
            partition = partition_fn(line) if partition_fn else None
            producer.send(topic, value=line, key=key, partition=partition).add_errback(failures.append)
            count += 1
        producer.flush()
    finally:
        producer.close()
    if failures:
        raise failures[0]
    return count


def iter_messages(
    bootstrap: str,
    topic: str,
    timeout: float = 30.0,
    *,
    connect_timeout: float | None = None,
) -> Iterator[ConsumerRecord]:
    """Yield every message of `topic` from the beginning up to the end offsets seen at the start.

    Partitions are assigned by hand (no consumer group, no commits), so reading leaves no trace on
    the broker and never competes with the Faust workers. Messages produced after the start are not
    read. Raises ServiceUnavailable when the end is not reached within `timeout` seconds.
    """
    consumer = _connect(
        KafkaConsumer,
        bootstrap,
        connect_timeout,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        client_id=f"riskwatch-read-{uuid.uuid4().hex[:8]}",
    )
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise UnknownTopic(topic, bootstrap)
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        begin = consumer.beginning_offsets(tps)
        end = consumer.end_offsets(tps)
        remaining = {tp for tp in tps if end[tp] > begin[tp]}
        consumer.seek_to_beginning(*remaining)
        deadline = time.monotonic() + timeout
        while remaining:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ServiceUnavailable(f"topic {topic!r}: end not reached within {timeout:g}s")
            batch = consumer.poll(timeout_ms=int(min(left, 1.0) * 1000))
            for tp, records in batch.items():
                for record in records:
                    if record.offset < end[tp]:
                        yield record
            # Positions, not counted records: transaction markers take offsets but are never returned.
            remaining = {tp for tp in remaining if consumer.position(tp) < end[tp]}
    finally:
        consumer.close()


def count_messages(bootstrap: str, topic: str, timeout: float = 30.0) -> int:
    """Number of messages in `topic` from the beginning to the current end."""
    return sum(1 for _ in iter_messages(bootstrap, topic, timeout))


def main(argv: list[str] | None = None) -> int:
    """`python -m streams.kafka_io ping [BOOTSTRAP]`: the readiness check of scripts/kafka-start.sh."""
    parser = argparse.ArgumentParser(prog="python -m streams.kafka_io")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ping", help="exit 0 when a broker answers a metadata request")
    p.add_argument("bootstrap", nargs="?", default=DEFAULT_BOOTSTRAP)
    p.add_argument("--timeout", type=float, default=CONNECT_TIMEOUT_S)
    args = parser.parse_args(argv)
    try:
        info = ping(args.bootstrap, args.timeout)
    except KafkaUnavailable as exc:
        print(exc, file=sys.stderr)
        return 1
    version = ".".join(map(str, info["broker_version"]))
    print(f"Kafka {version} at {args.bootstrap}: cluster {info['cluster_id']}, {len(info['brokers'])} broker(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
