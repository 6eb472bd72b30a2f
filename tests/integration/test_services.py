"""The services started by scripts/ are the ones the project expects, and our clients speak to them."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from streams import kafka_io

pytestmark = pytest.mark.integration


def test_broker_is_a_single_kafka_4_node(kafka_bootstrap):
    info = kafka_io.ping(kafka_bootstrap)
    assert len(info["brokers"]) == 1
    assert info["broker_version"] >= (4, 0)


def test_topic_is_created_once_with_its_partitions(kafka_bootstrap, unique_topic):
    assert kafka_io.create_topic(kafka_bootstrap, unique_topic, 3) == 3
    # Existing topics are left alone: the count reported is the real one, not the one asked for.
    assert kafka_io.create_topic(kafka_bootstrap, unique_topic, 5) == 3
    assert kafka_io.topic_partitions(kafka_bootstrap, unique_topic) == 3


def test_lines_produced_are_all_counted(kafka_bootstrap, unique_topic):
    kafka_io.create_topic(kafka_bootstrap, unique_topic, 3)
    lines = [f'{{"n": {i}}}'.encode() for i in range(500)]
    assert kafka_io.produce_lines(kafka_bootstrap, unique_topic, lines, key_fn=lambda line: line) == 500
    records = list(kafka_io.iter_messages(kafka_bootstrap, unique_topic, timeout=30))
    assert sorted(r.value for r in records) == sorted(lines)
    assert len({r.partition for r in records}) == 3  # keyed messages spread over every partition
    assert kafka_io.count_messages(kafka_bootstrap, unique_topic) == 500


def test_an_empty_topic_counts_zero(kafka_bootstrap, unique_topic):
    kafka_io.create_topic(kafka_bootstrap, unique_topic, 2)
    assert kafka_io.count_messages(kafka_bootstrap, unique_topic, timeout=10) == 0


def test_missing_topics_are_never_auto_created(kafka_bootstrap, unique_topic):
    with pytest.raises(kafka_io.UnknownTopic):
        kafka_io.produce_lines(kafka_bootstrap, unique_topic, [b"{}"])
    with pytest.raises(kafka_io.UnknownTopic):
        kafka_io.count_messages(kafka_bootstrap, unique_topic)
    assert kafka_io.topic_partitions(kafka_bootstrap, unique_topic) is None


def _cli():
    from pipeline.cli import app

    return app


def test_cli_produce_then_consume_count_validates_each_event(kafka_bootstrap, unique_topic, tmp_path):
    good = ('{"event_id": "e-%d", "kind": "patrol", "type": "checkpoint_visit", '
            '"occurred_at": "2024-11-05T09:30:00+08:00", "source": "patrol-app"}')
    events = tmp_path / "events.jsonl"
    events.write_text(
        "\n".join([good % 1, good % 2, good % 2, "", "not json", good.replace("+08:00", "") % 3]) + "\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    common = ["--topic", unique_topic, "--bootstrap", kafka_bootstrap]

    result = runner.invoke(_cli(), ["produce", str(events), "--partitions", "2", *common])
    assert result.exit_code == 0, result.output
    assert f"produced 5 messages to {unique_topic} (2 partitions)" in result.output

    result = runner.invoke(_cli(), ["consume-count", *common])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"{unique_topic}: 5 messages, 3 valid (1 duplicate event_ids), 2 rejected: invalid_json 1, naive_timestamp 1"
    )


def test_aiokafka_as_used_by_faust_works_against_the_broker(kafka_bootstrap, unique_topic):
    """faust-streaming 0.15 runs on aiokafka 0.14: group join, fetch, commit and transactions must work
    on a Kafka 4 broker, which dropped the oldest protocol versions (KIP-896)."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    kafka_io.create_topic(kafka_bootstrap, unique_topic, 2)

    async def roundtrip():
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for i in range(20):
                await producer.send(unique_topic, b"v%d" % i, key=b"k%d" % i)
            await producer.flush()
        finally:
            await producer.stop()

        tx = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=f"test-tx-{uuid.uuid4().hex[:8]}")
        await tx.start()
        try:
            async with tx.transaction():
                await tx.send(unique_topic, b"in-transaction", key=b"tx")
        finally:
            await tx.stop()

        consumer = AIOKafkaConsumer(
            unique_topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=f"test-group-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        await consumer.start()
        try:
            values = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 30
            while len(values) < 21 and loop.time() < deadline:
                batch = await consumer.getmany(timeout_ms=1000)
                values += [record.value for records in batch.values() for record in records]
            await consumer.commit()
            committed = {tp.partition: await consumer.committed(tp) for tp in consumer.assignment()}
        finally:
            await consumer.stop()
        return values, committed

    values, committed = asyncio.run(roundtrip())
    assert sorted(values) == sorted([b"v%d" % i for i in range(20)] + [b"in-transaction"])
    # committed offsets count the transaction marker too, hence > the 21 records
    assert set(committed) == {0, 1} and sum(committed.values()) >= 21


def test_postgres_accepts_the_riskwatch_role(pg_url):
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            version_num = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one())
            version = conn.execute(sa.text("SELECT version()")).scalar_one()
            database, user = conn.execute(sa.text("SELECT current_database(), current_user")).one()
            owner = conn.execute(
                sa.text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
            ).scalar_one()
            # riskwatch is the runtime role: the schema owner riskwatch_owner runs the migrations
            # (scripts/pg-start.sh; tests/integration/test_db_roles.py), the runtime role cannot create tables.
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text("CREATE TABLE rw_services_probe (id int)"))
            conn.rollback()
    finally:
        engine.dispose()
    assert version_num >= 150000, version
    assert version.startswith("PostgreSQL")
    assert (database, user, owner) == ("riskwatch", "riskwatch", "riskwatch_owner")
