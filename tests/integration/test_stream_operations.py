"""The stream worker against what operators and producers get wrong, on the real broker and PostgreSQL:
oversized and escape-heavy messages, a resent event with a corrected time, a failure inside a batch,
several deployments on one broker (prefixed changelogs, status per group, removing a deployment).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType

from streams.app import FATAL_EXIT_WITHIN
from streams.topics import MAX_MESSAGE_BYTES, TopicNames, ensure_topics
from tests.integration import streamkit as sk
from tests.streams.test_copies import time_partition

pytestmark = pytest.mark.integration

CST = timezone(timedelta(hours=8))
T0 = datetime(2024, 11, 5, 10, 0, tzinfo=CST)


def gas_alarm(eid: str, minutes: float, room: str = "HD-2-0101") -> bytes:
    return json.dumps({"event_id": eid, "kind": "monitoring", "type": "gas_alarm", "source": "sensor-gw",
                       "occurred_at": (T0 + timedelta(minutes=minutes)).isoformat(timespec="seconds"),
                       "severity": 4, "location": {"id": room, "building": "2"}}).encode()


OVERSIZED = [b'"' * 600_000, b"\xff\xfe" * 400_000, b"x" * 1_500_000]


@pytest.fixture
def stream_db(pg_url):
    url = sk.fresh_database(pg_url, "streamops")
    yield url
    sk.drop_database(pg_url, url)


@pytest.fixture
def deployment(kafka_bootstrap, stream_db, tmp_path):
    dep = sk.Deployment(kafka_bootstrap, stream_db, tmp_path, partitions=4, label="ops")
    yield dep
    dep.cleanup()


def names_of(dep) -> TopicNames:
    return TopicNames.make(dep.prefix, dep.app_id)


def test_oversized_input_and_a_corrected_resend_match_replay_and_the_deployment_can_be_removed(
        deployment, kafka_bootstrap, pg_url, tmp_path):
    first, corrected = gas_alarm("gas-1", 0), gas_alarm("gas-1", 7)
    assert time_partition(first) != time_partition(corrected)     # by their times alone they would split
    lines = [first, gas_alarm("gas-2", 2), gas_alarm("other-1", 4, "HD-2-0102"), gas_alarm("gas-3", 6),
             corrected, gas_alarm("other-2", 8, "HD-2-0102"), gas_alarm("gas-4", 9), gas_alarm("gas-5", 30)]
    path = tmp_path / "input.jsonl"
    path.write_bytes(b"\n".join([*lines, *OVERSIZED]) + b"\n")
    names = names_of(deployment)

    # the worker's topics first (what `riskwatch worker` creates), then the input as a producer sends it
    ensure_topics(kafka_bootstrap, names, 4, 1)
    (tmp_path / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    sk.produce(tmp_path / "events.jsonl", deployment.raw, 4, kafka_bootstrap)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", max_request_size=4 * 1024 * 1024)
    try:
        for raw in OVERSIZED:
            producer.send(deployment.raw, value=raw, partition=0)
        producer.flush()
    finally:
        producer.close()

    worker = deployment.start("--until-drained")
    assert worker.wait(180) == 0, worker.tail()

    oracle = sk.fresh_database(pg_url, "streamops_oracle")
    try:
        summary = sk.replay_into(path, oracle)
        now = sk.parse_now(summary)
        stream, replay = sk.snapshot(deployment.db_url, now), sk.snapshot(oracle, now)
    finally:
        sk.drop_database(pg_url, oracle)
    for table in ("events", "rejections", "contributions", "entities", "alerts", "alert_history"):
        assert stream.tables[table] == replay.tables[table], table
    assert stream.scores == replay.scores and stream.duplicates == summary["duplicates"] == 1
    assert summary["rejected"] == 3
    engine = sa.create_engine(deployment.db_url)
    try:
        with engine.connect() as conn:
            reasons = [r for (r,) in conn.execute(sa.text("SELECT reason FROM rejections"))]
            kept = conn.execute(sa.text("SELECT doc FROM events WHERE event_id = 'gas-1'")).scalar_one()
    finally:
        engine.dispose()
    assert reasons == ["too_large"] * 3
    assert kept["occurred_at"] == json.loads(first)["occurred_at"]      # the first copy, as in replay

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        topics = set(admin.list_topics())
        # the changelogs carry the deployment's prefix; nothing unprefixed was created
        assert {names.changelog("entity-state"), names.changelog("ingest-state")} <= topics
        assert not {f"{deployment.app_id}-entity-state-changelog", f"{deployment.app_id}-ingest-state-changelog"} & topics
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in names.all_topics])
        limits = {topic: entries["max.message.bytes"]["value"] for topic, entries in configs["topic"].items()}
        assert limits == dict.fromkeys(names.all_topics, str(MAX_MESSAGE_BYTES))
    finally:
        admin.close()

    # every dead letter fitted, with the original's length and hash
    dlq = [json.loads(m.value) for m in _read_all(kafka_bootstrap, names.dlq)]
    assert sorted(d["raw_length"] for d in dlq) == sorted(len(x) for x in OVERSIZED)
    assert all(d["raw_truncated"] and len(d["raw_sha256"]) == 64 for d in dlq)

    # status: events.raw rows are the ingest group's, the others the Faust app's
    status = subprocess.run([*sk.RISKWATCH, "status", "--json", "--interval", "0"], cwd=sk.ROOT,
                            env=deployment.env(), capture_output=True, timeout=60)
    assert status.returncode == 0, status.stderr
    rows = json.loads(status.stdout)["lag"]
    assert {(r["topic"] == deployment.raw, r["group"]) for r in rows} == {
        (True, names.ingest_group), (False, names.app_id)}

    # removing the deployment: refused without --yes, then every topic and both groups go
    refused = subprocess.run([*sk.RISKWATCH, "topics", "delete"], cwd=sk.ROOT, env=deployment.env(),
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    deleted = subprocess.run([*sk.RISKWATCH, "topics", "delete", "--yes"], cwd=sk.ROOT, env=deployment.env(),
                             capture_output=True, text=True, timeout=120)
    assert deleted.returncode == 0, deleted.stderr
    assert f"deleted {len(names.all_topics)} topics" in deleted.stdout and "2 consumer groups" in deleted.stdout
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        assert not [t for t in admin.list_topics() if t.startswith(deployment.prefix)]
        assert not {g["group_id"] for g in admin.list_groups()} & set(names.groups)
    finally:
        admin.close()


def _read_all(bootstrap: str, topic: str) -> list:
    from streams.kafka_io import iter_messages

    return list(iter_messages(bootstrap, topic, 30))


INJECT = """
import sys
import streams.ingest

def fail(self, messages, now=None):
    raise RuntimeError("injected failure inside a batch")

streams.ingest.Ingest.process = fail

# and a database call hangs in the sink's thread, which the interpreter waits for at exit (the
# worker once logged "batch failed" and then neither logged nor exited for 200 s)
import time
import streams.sink

streams.sink.StreamWriter.write_levels = lambda self, levels: time.sleep(3600)
from pipeline.cli import app
sys.argv = ["riskwatch", "worker"]
app()
"""


def test_a_failed_batch_ends_the_worker_promptly_with_a_non_zero_exit(deployment, kafka_bootstrap, tmp_path):
    (tmp_path / "events.jsonl").write_bytes(gas_alarm("gas-1", 0) + b"\n")
    sk.produce(tmp_path / "events.jsonl", deployment.raw, 4, kafka_bootstrap)
    log = tmp_path / "worker.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", INJECT], cwd=sk.ROOT, env=deployment.env(),
                                stdout=subprocess.DEVNULL, stderr=err)
        failed_at = None
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            if failed_at is None and b"batch failed: stopping the worker" in log.read_bytes():
                failed_at = time.monotonic()
            time.sleep(0.2)
        if proc.poll() is None:
            proc.kill()
            raise AssertionError("the worker did not exit after a failed batch:\n" + log.read_text()[-3000:])
    ended_at = time.monotonic()
    text = log.read_text()
    assert proc.returncode == 1, text[-3000:]
    assert "batch failed: stopping the worker" in text
    # the failure was logged, and the process was gone within the promised time (plus polling slack)
    assert failed_at is None or ended_at - failed_at <= FATAL_EXIT_WITHIN + 3, text[-3000:]


def test_produce_keys_every_message_by_event_id_and_keeps_copies_on_one_partition(kafka_bootstrap, tmp_path):
    from streams.kafka_io import iter_messages

    first, corrected = gas_alarm("gas-1", 0), gas_alarm("gas-1", 7)
    lines = [first, gas_alarm("gas-2", 2), gas_alarm("gas-3", 4), corrected, gas_alarm("gas-4", 9)]
    (tmp_path / "in.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    prefix = f"test.produce.{time.time_ns()}."
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        for mode in ("occurred_at", "event_id"):
            topic = f"{prefix}{mode}"
            sk_out = subprocess.run([*sk.RISKWATCH, "produce", str(tmp_path / "in.jsonl"), "--topic", topic,
                                     "--partitions", "4", "--partition-by", mode, "--bootstrap", kafka_bootstrap],
                                    cwd=sk.ROOT, capture_output=True, text=True, timeout=120)
            assert sk_out.returncode == 0, sk_out.stderr
            messages = list(iter_messages(kafka_bootstrap, topic, 30))
            assert sorted(m.key for m in messages) == sorted(json.loads(x)["event_id"].encode() for x in lines)
            copies = {m.partition for m in messages if m.key == b"gas-1"}
            assert len(copies) == 1, (mode, copies)
            configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            assert configs["topic"][topic]["max.message.bytes"]["value"] == str(MAX_MESSAGE_BYTES)
    finally:
        admin.delete_topics([f"{prefix}occurred_at", f"{prefix}event_id"])
        admin.close()


def test_a_deployment_with_a_running_consumer_is_not_removed(kafka_bootstrap):
    from kafka import KafkaConsumer

    names = TopicNames.make(f"test.busy.{time.time_ns()}.", f"rw-test-busy-{time.time_ns()}")
    ensure_topics(kafka_bootstrap, names, 2, 1)
    member = KafkaConsumer(names.raw, bootstrap_servers=kafka_bootstrap, group_id=names.ingest_group)
    try:
        deadline = time.monotonic() + 30
        while not member.assignment() and time.monotonic() < deadline:
            member.poll(timeout_ms=500)
        assert member.assignment()
        env = {**os.environ, "RISKWATCH_KAFKA_BOOTSTRAP": kafka_bootstrap, "RISKWATCH_TOPIC_PREFIX": names.prefix,
               "RISKWATCH_APP_ID": names.app_id}
        busy = subprocess.run([*sk.RISKWATCH, "topics", "delete", "--yes"], cwd=sk.ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert busy.returncode == 5 and "stop its workers first" in busy.stderr, busy.stderr
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        try:
            assert set(names.all_topics) <= set(admin.list_topics())        # nothing was deleted
        finally:
            admin.close()
    finally:
        member.close()
    done = subprocess.run([*sk.RISKWATCH, "topics", "delete", "--yes"], cwd=sk.ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
